/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The explore engine through its API (sim/explore/explore.h): a shrunk schedule is 1-minimal (it
 * fails, and without any one of its deviations it does not fail that way); tokens round-trip; a
 * schedule runs the same twice; DFS with bound 0 runs only the forced choices' branches; the
 * default pick with no deviation is the non-preemptive run.
 */
#include <check.h>
#include <string.h>

#include "sim/explore/explore-internal.h"
#include "tests/check-run.h"

static const char *target_dir;

static Trace *
load(const char *name)
{
	g_autofree gchar *path = g_build_filename(target_dir, name, NULL);
	g_autoptr(GError) error = NULL;
	Trace *trace = trace_load(path, &error);

	ck_assert_msg(trace, "%s", error ? error->message : "?");
	return trace;
}

/* Does the schedule devs (n deviations) break the invariant? */
static gboolean
fails_with(const ExploreTarget *t, const ExploreChoice *devs, guint n, const char *invariant)
{
	ExploreRun run;
	gboolean failed;

	ck_assert(explore_run_schedule(t, devs, n, FALSE, FALSE, &run, NULL));
	failed = run.failed && strcmp(run.invariant, invariant) == 0;
	explore_run_clear(&run);
	return failed;
}

START_TEST(test_shrunk_is_one_minimal)
{
	g_autoptr(Trace) trace = load("planted-no-stale-check.xml");
	ExploreTarget t = { .trace = trace, .name = trace->path };
	ExploreOptions o = { .strategy = EXPLORE_RANDOM, .seed = 5, .budget = 10000,
			     .shrink = TRUE };
	ExploreResult r;

	ck_assert(explore_search(&t, &o, &r, NULL));
	ck_assert(r.failed);
	const GArray *d = r.shrunk.deviations;

	ck_assert(r.shrunk.failed);
	ck_assert_str_eq(r.shrunk.invariant, r.found.invariant);
	ck_assert_uint_le(d->len, r.found.deviations->len);
	ck_assert(fails_with(&t, (const ExploreChoice *)d->data, d->len, r.found.invariant));
	for (guint i = 0; i < d->len; i++) {
		g_autoptr(GArray) less = g_array_copy((GArray *)d);

		g_array_remove_index(less, i);
		ck_assert_msg(!fails_with(&t, (const ExploreChoice *)less->data, less->len,
					  r.found.invariant), "deviation %u can go", i);
	}
	explore_result_clear(&r);
}
END_TEST

START_TEST(test_token_round_trip)
{
	const ExploreChoice devs[] = { { EXPLORE_NO_ACTOR, 0, 2 }, { 0, 7, 1 },
				       { 2, 1u << 20, 0 }, { 1, 300, 63 } };
	g_autofree gchar *token = explore_token_encode(devs, G_N_ELEMENTS(devs));
	g_autoptr(GArray) back = explore_token_decode(token, NULL);

	ck_assert(g_str_has_prefix(token, "kx1."));
	ck_assert_uint_eq(strspn(token + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789-_"), strlen(token + 4));
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->len, G_N_ELEMENTS(devs));
	for (guint i = 0; i < back->len; i++) {
		const ExploreChoice *c = &g_array_index(back, ExploreChoice, i);

		ck_assert_uint_eq(c->cur, devs[i].cur);
		ck_assert_uint_eq(c->arrivals, devs[i].arrivals);
		ck_assert_uint_eq(c->pick, devs[i].pick);
	}
	/* a changed character is caught by the check byte (or the length) */
	g_autofree gchar *bad = g_strdup(token);

	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) none = explore_token_decode(bad, &error);

	ck_assert_ptr_null(none);
	ck_assert(g_error_matches(error, EXPLORE_ERROR, EXPLORE_ERROR_TOKEN));
}
END_TEST

START_TEST(test_same_schedule_same_run)
{
	g_autoptr(Trace) trace = load("canonical-race.xml");
	ExploreTarget t = { .trace = trace, .name = trace->path };
	const ExploreChoice devs[] = { { 0, 3, 2 }, { 2, 9, 1 } };
	ExploreRun a, b;

	ck_assert(explore_run_schedule(&t, devs, G_N_ELEMENTS(devs), TRUE, TRUE, &a, NULL));
	ck_assert(explore_run_schedule(&t, devs, G_N_ELEMENTS(devs), TRUE, TRUE, &b, NULL));
	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_eq(a.steps, b.steps);
	ck_assert_str_eq(a.log, b.log);
	ck_assert(!a.failed);
	/* the deviations it took (a deviation whose moment never comes is not one) are the same
	 * schedule again */
	ExploreRun c;

	ck_assert_uint_ge(a.deviations->len, 1);
	ck_assert(explore_run_schedule(&t, (const ExploreChoice *)a.deviations->data,
				       a.deviations->len, FALSE, FALSE, &c, NULL));
	ck_assert_uint_eq(c.hash, a.hash);
	explore_run_clear(&a);
	explore_run_clear(&b);
	explore_run_clear(&c);
}
END_TEST

/* Any run's deviations name its schedule: replayed, they make the same choices (the names of
 * choices are unique), for random runs of every target kind here. */
START_TEST(test_deviations_name_the_run)
{
	const char *names[] = { "canonical-race.xml", "planted-no-stale-check.xml" };

	for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
		g_autoptr(Trace) trace = load(names[n]);
		ExploreTarget t = { .trace = trace, .name = trace->path };

		for (guint i = 0; i < 300; i++) {
			ExploreRandom rnd;
			ExploreRun run, again;

			explore_random_init(&rnd, i + 1, 0);
			ck_assert(explore_run_with(&t, explore_random_pick, &rnd, FALSE, FALSE, &run,
						   NULL));
			explore_random_clear(&rnd);
			ck_assert(explore_run_schedule(&t, (const ExploreChoice *)run.deviations->data,
						       run.deviations->len, FALSE, FALSE, &again,
						       NULL));
			ck_assert_uint_eq(again.hash, run.hash);
			ck_assert_uint_eq(again.failed, run.failed);
			explore_run_clear(&run);
			explore_run_clear(&again);
		}
	}
}
END_TEST

START_TEST(test_default_is_non_preemptive)
{
	g_autoptr(Trace) trace = load("canonical-race.xml");
	ExploreTarget t = { .trace = trace, .name = trace->path };
	ExploreRun run;

	ck_assert(explore_run_schedule(&t, NULL, 0, TRUE, FALSE, &run, NULL));
	ck_assert_uint_eq(run.deviations->len, 0);
	ck_assert_uint_eq(run.preemptions, 0);
	/* each actor runs to its end before the next: one step each, in creation order */
	ck_assert_uint_eq(run.steps_taken->len, 3);
	for (guint i = 0; i < 3; i++) {
		const SimStep *s = g_ptr_array_index(run.steps_taken, i);

		ck_assert_str_eq(s->actor, g_ptr_array_index(run.actor_names, i));
		ck_assert_str_eq(s->until, "exit");
	}
	explore_run_clear(&run);
}
END_TEST

START_TEST(test_dfs_bounds_grow)
{
	g_autoptr(Trace) trace = load("canonical-race.xml");
	ExploreTarget t = { .trace = trace, .name = trace->path };
	guint64 last = 0;

	for (guint k = 0; k <= 2; k++) {
		ExploreOptions o = { .strategy = EXPLORE_DFS, .preemption_bound = k };
		ExploreResult r;

		ck_assert(explore_search(&t, &o, &r, NULL));
		ck_assert(r.exhausted);
		ck_assert(!r.failed);
		ck_assert_uint_eq(r.distinct, r.schedules);
		ck_assert_uint_gt(r.schedules, last);
		last = r.schedules;
		explore_result_clear(&r);
	}
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("explore-engine");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shrunk_is_one_minimal);
	tcase_add_test(tc, test_token_round_trip);
	tcase_add_test(tc, test_same_schedule_same_run);
	tcase_add_test(tc, test_deviations_name_the_run);
	tcase_add_test(tc, test_default_is_non_preemptive);
	tcase_add_test(tc, test_dfs_bounds_grow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	target_dir = argc > 1 ? argv[1] : "tests/explore";
	return check_run_suite(engine_suite());
}
