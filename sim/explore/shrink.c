/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shrinking a failing schedule: delta debugging (Zeller and Hildebrandt, "Simplifying and
 * Isolating Failure-Inducing Input", TSE 2002, the ddmin algorithm) over its deviations from the
 * default pick. A subset "fails" if the run it names breaks the same invariant. The result is
 * 1-minimal: removing any single deviation makes that failure disappear.
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

gboolean
explore_shrink(const ExploreTarget *target, const ExploreRun *failing, gboolean log,
	       ExploreRun *out, guint *runs, GError **error)
{
	Shrink s = { .target = target, .invariant = failing->invariant };
	g_autoptr(GArray) c = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));

	g_array_append_vals(c, failing->deviations->data, failing->deviations->len);
	/* until a pass changes nothing: a kept deviation may no longer be one in the run it names */
	for (;;) {
		guint before = c->len;
		ExploreRun run;

		ddmin(&s, c);
		if (s.error)
			break;
		if (!explore_run_schedule(target, (const ExploreChoice *)c->data, c->len, FALSE,
					  FALSE, &run, &s.error))
			break;
		s.runs++;
		g_array_set_size(c, 0);
		if (run.failed && strcmp(run.invariant, failing->invariant) == 0)
			g_array_append_vals(c, run.deviations->data, run.deviations->len);
		else /* cannot happen: ddmin kept a failing set */
			g_array_append_vals(c, failing->deviations->data, failing->deviations->len);
		explore_run_clear(&run);
		if (c->len >= before)
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
