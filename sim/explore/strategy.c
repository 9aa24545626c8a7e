/* SPDX-License-Identifier: GPL-2.0-only */
/* The random and PCT strategies' picks, and the default (non-preemptive) pick. */
#include "sim/explore/explore-internal.h"

#include <string.h>

static const char *const strategy_names[] = {
	[EXPLORE_RANDOM] = "random",
	[EXPLORE_PCT] = "pct",
	[EXPLORE_DFS] = "dfs",
};

const char *
explore_strategy_name(ExploreStrategy s)
{
	return strategy_names[s];
}

gboolean
explore_strategy_lookup(const char *name, ExploreStrategy *out)
{
	for (guint i = 0; i < G_N_ELEMENTS(strategy_names); i++) {
		if (strcmp(strategy_names[i], name) == 0) {
			*out = (ExploreStrategy)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* MT19937 keyed by the search's seed, the schedule's number and a tag for the use: every
 * schedule has its own stream, so a worker can run any schedule without the others. */
static GRand *
schedule_rng(guint64 seed, guint64 schedule, guint32 tag)
{
	guint32 key[5] = { (guint32)seed, (guint32)(seed >> 32), (guint32)schedule,
			   (guint32)(schedule >> 32), tag };

	return g_rand_new_with_seed_array(key, G_N_ELEMENTS(key));
}

void
explore_random_init(ExploreRandom *r, guint64 seed, guint64 schedule)
{
	r->rng = schedule_rng(seed, schedule, 1);
}

void
explore_random_clear(ExploreRandom *r)
{
	g_rand_free(r->rng);
}

guint
explore_random_pick(gpointer data, const SimChoice *c, guint def, guint index)
{
	ExploreRandom *r = data;

	return (guint)g_rand_int_range(r->rng, 0, (gint32)c->n);
}

guint
explore_default_pick(gpointer data, const SimChoice *c, guint def, guint index)
{
	return def;
}

/*
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS'10): the n actors get the distinct
 * priorities depth .. depth + n - 1 in a random order; depth - 1 change points are drawn among
 * the k choices (only choices among two or more runnable actors count, as in the paper's §4.1);
 * at the j-th, the running actor drops to priority depth - j, below every initial one. The
 * runnable actor of highest priority runs.
 */
void
explore_pct_init(ExplorePct *p, guint64 seed, guint64 schedule, guint n, guint depth, guint64 k)
{
	GRand *rng = schedule_rng(seed, schedule, 2);

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->priority = g_new(guint, n);
	for (guint i = 0; i < n; i++)
		p->priority[i] = depth + i;
	for (guint i = n; i > 1; i--) { /* Fisher-Yates */
		guint j = (guint)g_rand_int_range(rng, 0, (gint32)i), t = p->priority[i - 1];

		p->priority[i - 1] = p->priority[j];
		p->priority[j] = t;
	}
	p->nr_change = depth > 1 ? depth - 1 : 0;
	p->change = g_new0(guint64, p->nr_change + 1);
	for (guint j = 0; j < p->nr_change; j++) {
		guint64 at;
		gboolean dup;

		do { /* distinct points among 1..k (fewer if k is smaller than depth - 1) */
			at = 1 + (guint64)g_rand_double_range(rng, 0, (gdouble)MAX(k, 1));
			dup = FALSE;
			for (guint i = 0; i < j; i++)
				dup |= p->change[i] == at;
		} while (dup && j < k);
		p->change[j] = at;
	}
	p->last = G_MAXUINT;
	g_rand_free(rng);
}

void
explore_pct_clear(ExplorePct *p)
{
	g_free(p->priority);
	g_free(p->change);
}

guint
explore_pct_pick(gpointer data, const SimChoice *c, guint def, guint index)
{
	ExplorePct *p = data;
	guint best = 0;

	p->counted++;
	for (guint j = 0; j < p->nr_change; j++) {
		if (p->change[j] == p->counted && c->current >= 0 && (guint)c->current < p->n)
			p->priority[c->current] = p->nr_change - j; /* depth - (j + 1) */
	}
	for (guint i = 1; i < c->n; i++)
		if (c->runnable[i] < p->n && c->runnable[best] < p->n &&
		    p->priority[c->runnable[i]] > p->priority[c->runnable[best]])
			best = i;
	p->last = c->runnable[best];
	return best;
}
