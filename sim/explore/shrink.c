/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shrinking a failing schedule: delta debugging (Zeller and Hildebrandt, "Simplifying and
 * Isolating Failure-Inducing Input", TSE 2002, the ddmin algorithm) over its deviations from the
 * default pick. A subset "fails" if the run it names breaks the same invariant. The result is
 * 1-minimal: removing any single deviation makes that failure disappear.
 *
 * 1-minimal is not smallest: a deviation is named by the running actor's count of points, and once
 * an early one goes the later ones name other moments. So the shrinking then looks for a schedule
 * with fewer preemptions than the one it has: a DFS bounded by each smaller number of preemptions
 * in turn (within the run budget); a failure it finds is shrunk the same way, and the shorter of
 * the two kept.
 */
#include "sim/explore/explore-internal.h"

#include <string.h>

/* Runs a shrinking may make at most; past it the smallest failing set so far is kept. */
#define SHRINK_MAX_RUNS 5000

typedef struct {
	const ExploreTarget *target;
	const char *invariant;
	guint runs;
	GError *error;
} Shrink;

/* Does the schedule of these deviations break the invariant? */
static gboolean
fails(Shrink *s, const ExploreChoice *devs, guint n)
{
	ExploreRun run;
	gboolean failed;

	if (s->error || s->runs >= SHRINK_MAX_RUNS)
		return FALSE;
	s->runs++;
	if (!explore_run_schedule(s->target, devs, n, FALSE, FALSE, &run, &s->error))
		return FALSE;
	failed = run.failed && strcmp(run.invariant, s->invariant) == 0;
	explore_run_clear(&run);
	return failed;
}

/* ddmin: c shrinks in place. */
static void
ddmin(Shrink *s, GArray *c)
{
	guint n = 2;

	if (fails(s, NULL, 0)) {
		g_array_set_size(c, 0);
		return;
	}
	while (c->len >= 2) {
		guint len = c->len, chunk = (len + n - 1) / n;
		gboolean reduced = FALSE;
		g_autoptr(GArray) trial = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));

		/* a subset alone */
		for (guint start = 0; start < len && !reduced; start += chunk) {
			guint m = MIN(chunk, len - start);

			if (m < len && fails(s, &g_array_index(c, ExploreChoice, start), m)) {
				g_array_remove_range(c, start + m, len - start - m);
				g_array_remove_range(c, 0, start);
				n = 2;
				reduced = TRUE;
			}
		}
		/* its complement */
		for (guint start = 0; start < len && !reduced; start += chunk) {
			guint m = MIN(chunk, len - start);

			g_array_set_size(trial, 0);
			g_array_append_vals(trial, c->data, start);
			g_array_append_vals(trial, &g_array_index(c, ExploreChoice, start + m),
					    len - start - m);
			if (fails(s, (const ExploreChoice *)trial->data, trial->len)) {
				g_array_set_size(c, 0);
				g_array_append_vals(c, trial->data, trial->len);
				n = MAX(n - 1, 2);
				reduced = TRUE;
			}
		}
		if (reduced)
			continue;
		if (n >= len)
			break;
		n = MIN(2 * n, len);
	}
}

/* ddmin until a pass changes nothing: a kept deviation may no longer be one in the run it names;
 * *preemptions: those of the result's run. */
static void
shrink_set(Shrink *s, GArray *c, const GArray *fallback, guint *preemptions)
{
	const ExploreTarget *target = s->target;

	for (;;) {
		guint before = c->len;
		ExploreRun run;

		ddmin(s, c);
		if (s->error)
			break;
		if (!explore_run_schedule(target, (const ExploreChoice *)c->data, c->len, FALSE,
					  FALSE, &run, &s->error))
			break;
		s->runs++;
		g_array_set_size(c, 0);
		if (run.failed && strcmp(run.invariant, s->invariant) == 0) {
			g_array_append_vals(c, run.deviations->data, run.deviations->len);
			*preemptions = run.preemptions;
		} else { /* cannot happen: ddmin kept a failing set */
			g_array_append_vals(c, fallback->data, fallback->len);
		}
		explore_run_clear(&run);
		if (c->len >= before)
			break;
	}
}

/* A failing schedule with at most bound preemptions, by bounded DFS within the run budget; its
 * deviations into found. */
static gboolean
dfs_find(Shrink *s, guint bound, GArray *found)
{
	ExploreDfs *dfs = explore_dfs_new(bound);
	gboolean hit = FALSE;

	while (!s->error && s->runs < SHRINK_MAX_RUNS) {
		ExploreRun run;

		s->runs++;
		if (!explore_run_with(s->target, explore_dfs_pick, dfs, FALSE, FALSE, &run,
				      &s->error))
			break;
		hit = run.failed && strcmp(run.invariant, s->invariant) == 0;
		if (hit) {
			g_array_set_size(found, 0);
			g_array_append_vals(found, run.deviations->data, run.deviations->len);
		}
		explore_run_clear(&run);
		if (hit || !explore_dfs_next(dfs))
			break;
	}
	explore_dfs_free(dfs);
	return hit;
}

gboolean
explore_shrink(const ExploreTarget *target, const ExploreRun *failing, gboolean log,
	       ExploreRun *out, guint *runs, GError **error)
{
	Shrink s = { .target = target, .invariant = failing->invariant };
	g_autoptr(GArray) c = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));
	g_autoptr(GArray) other = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));
	guint preemptions = failing->preemptions, other_preemptions = 0;

	g_array_append_vals(c, failing->deviations->data, failing->deviations->len);
	shrink_set(&s, c, failing->deviations, &preemptions);
	for (guint bound = 0; bound < preemptions && !s.error; bound++) {
		if (!dfs_find(&s, bound, other))
			continue;
		g_autoptr(GArray) fallback = g_array_copy(other);

		shrink_set(&s, other, fallback, &other_preemptions);
		if (!s.error && (other->len < c->len ||
				 (other->len == c->len && other_preemptions < preemptions))) {
			g_array_set_size(c, 0);
			g_array_append_vals(c, other->data, other->len);
			preemptions = other_preemptions;
		}
		break;
	}
	if (runs)
		*runs = s.runs;
	if (s.error) {
		g_propagate_error(error, s.error);
		return FALSE;
	}
	return explore_run_schedule(target, (const ExploreChoice *)c->data, c->len, TRUE, log, out,
				    error);
}
