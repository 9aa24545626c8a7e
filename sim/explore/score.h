/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mutation score (issue 9 item 5): every protocol mutation (sim/core/mutations.h) run
 * against a set of targets, to see which search kills it, how soon, and how short the
 * counterexample is once shrunk. A mutation expected safe must survive every target; every
 * other one must be killed by one.
 *
 * Strategies are tried in the order given, each over every target in order, and the first kill
 * is the mutation's row. Besides the searches (random, pct, dfs) there is "steps": the target's
 * own written schedule, replayed with its expectations, which kills a mutation only an
 * expectation can see (install_plain_store: in kvmsim it never breaks an invariant).
 */
#ifndef KVMSIM_SIM_EXPLORE_SCORE_H
#define KVMSIM_SIM_EXPLORE_SCORE_H

#include <stdio.h>

#include "sim/explore/explore.h"

/* A strategy of the score: a search with its options, or the targets' own schedules. */
typedef struct {
	gboolean steps;            /* the target's written schedule and expectations */
	ExploreOptions search;     /* otherwise: this search */
} ExploreScoreStrategy;

/* What became of one mutation. */
typedef struct {
	SimMutation mutation;
	gboolean killed;
	guint target;              /* index of the target that killed it */
	guint strategy;            /* index of the strategy that did */
	guint64 schedules;         /* schedules that strategy ran on that target until the kill */
	guint shrunk_deviations;   /* the shrunk counterexample: its deviations, */
	guint shrunk_steps;        /* and its length as a trace's steps */
	gchar *invariant;          /* what broke ("expectation" for a replay's expectations) */
	guint64 runs;              /* schedules run for this mutation over every target */
} ExploreScoreRow;

/* Score every mutation against targets[0..n) (their own <mutations> stay planted too); rows
 * receives SIM_MUT_COUNT rows in catalogue order. FALSE if a target cannot be run. */
gboolean explore_mutation_score(Trace *const *targets, guint n,
				 const ExploreScoreStrategy *strategies, guint n_strategies,
				 guint64 actor_budget, GArray *rows, GError **error);
void explore_score_rows_clear(GArray *rows);

/* The table, one row per mutation; TRUE if every unsafe mutation was killed and no safe one. */
gboolean explore_score_print(FILE *out, Trace *const *targets, guint n,
			     const ExploreScoreStrategy *strategies, guint n_strategies,
			     const GArray *rows);

#endif
