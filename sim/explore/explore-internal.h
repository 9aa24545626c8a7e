/* SPDX-License-Identifier: GPL-2.0-only */
/* What sim/explore's files share: runs under a pick function, the strategies' pickers. */
#ifndef KVMSIM_SIM_EXPLORE_EXPLORE_INTERNAL_H
#define KVMSIM_SIM_EXPLORE_EXPLORE_INTERNAL_H

#include "sim/explore/explore.h"

/* A strategy's pick at choice number index (from 0) of a run: a position in c->runnable; def is
 * the default pick's position. */
typedef guint (*ExplorePickFn)(gpointer data, const SimChoice *c, guint def, guint index);

gboolean explore_run_with(const ExploreTarget *target, ExplorePickFn pick, gpointer pick_data,
			  gboolean record, gboolean log, ExploreRun *out, GError **error);

/* Random: a uniform pick from a stream seeded by (seed, schedule number). */
typedef struct {
	GRand *rng;
} ExploreRandom;
void explore_random_init(ExploreRandom *r, guint64 seed, guint64 schedule);
void explore_random_clear(ExploreRandom *r);
guint explore_random_pick(gpointer data, const SimChoice *c, guint def, guint index);

/* PCT for one schedule: n actor priorities and depth - 1 change points among k choices. */
typedef struct {
	guint *priority;           /* per actor, higher runs first */
	guint n;
	guint64 *change;           /* depth - 1 choice numbers (from 1) */
	guint nr_change;
	guint64 counted;           /* choices so far */
	guint last;                /* the actor picked last (demoted at a change point) */
} ExplorePct;
void explore_pct_init(ExplorePct *p, guint64 seed, guint64 schedule, guint n, guint depth,
		      guint64 k);
void explore_pct_clear(ExplorePct *p);
guint explore_pct_pick(gpointer data, const SimChoice *c, guint def, guint index);

/* The default pick at every choice: the non-preemptive run. */
guint explore_default_pick(gpointer data, const SimChoice *c, guint def, guint index);

/* Bounded DFS (dfs.c): the stack of choices of the last run and what was tried at each. */
typedef struct ExploreDfs ExploreDfs;
ExploreDfs *explore_dfs_new(guint bound);
void explore_dfs_free(ExploreDfs *d);
guint explore_dfs_pick(gpointer data, const SimChoice *c, guint def, guint index);
/* After a run: set up the next schedule; FALSE when every one within the bound was run. */
gboolean explore_dfs_next(ExploreDfs *d);

#endif
