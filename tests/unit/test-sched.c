/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core: the scheduler (policies, steps, recording, sleep, failure) and its locks. */
#include "tests/unit/core-support.h"

#include "sim/core/fiber.h"
#include "sim/core/sched-rng.h"

#ifdef SIM_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* ---------------------------------------------------------------------------------------------
 * Scheduler
 */

START_TEST(same_seed_gives_a_byte_identical_log)
{
	g_autofree gchar *first = run_three(42, SIM_POLICY_RANDOM, FALSE, NULL);
	g_autofree gchar *second = run_three(42, SIM_POLICY_RANDOM, FALSE, NULL);

	ck_assert_ptr_nonnull(strstr(first, "sim_switch: "));
	ck_assert_str_eq(first, second);
}
END_TEST

static int
compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The words of text, sorted: the same events in any order give the same string. */
static gchar *
sorted_words(const char *text)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);

	qsort(words, g_strv_length(words), sizeof(*words), compare_words);
	return g_strjoinv(" ", words);
}

START_TEST(different_seed_gives_a_different_interleaving)
{
	g_autofree gchar *one = run_three(1, SIM_POLICY_RANDOM, FALSE, NULL);
	g_autofree gchar *two = run_three(2, SIM_POLICY_RANDOM, FALSE, NULL);
	g_autofree gchar *one_events = log_events(one);
	g_autofree gchar *two_events = log_events(two);
	g_autofree gchar *one_sorted = sorted_words(one_events);
	g_autofree gchar *two_sorted = sorted_words(two_events);

	ck_assert_str_ne(one_events, two_events);
	ck_assert_str_eq(one_sorted, two_sorted); /* the same events, in another order */
}
END_TEST

START_TEST(round_robin_runs_actors_in_creation_order_at_each_yield)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Script script = { sched, three_points };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	sim_actor_new(sched, "c", script_actor, &script);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert_str_eq(events, "a@p1 b@p1 c@p1 a@p2 b@p2 c@p2 a@p3 b@p3 c@p3 a@end b@end c@end");
	sim_log_free(log);
}
END_TEST

/* An interrupt handler's actor: holds the actor of its CPU while it runs two yield points. */
static void
irq_actor(SimActor *actor, gpointer data)
{
	SimSched *sched = data;
	SimActor *victim = sim_sched_find_actor(sched, "a");

	(void)actor;
	sim_actor_hold(victim);
	emit(sched, "h1");
	sim_yield(sched, "h1");
	emit(sched, "h2");
	sim_yield(sched, "h2");
	sim_actor_release(victim);
	emit(sched, "end");
}

START_TEST(held_actor_runs_only_after_the_handler_releases_it)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Script script = { sched, three_points };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	sim_actor_new(sched, "irq", irq_actor, sched);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	/* round robin skips a from irq's first point to its release */
	ck_assert_str_eq(events, "a@p1 b@p1 irq@h1 b@p2 irq@h2 b@p3 irq@end a@p2 b@end a@p3 a@end");
	sim_log_free(log);
}
END_TEST

START_TEST(step_naming_a_held_actor_is_a_schedule_error)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	Script script = { sched, three_points };
	const SimStep steps[] = { { "a", "p1", 1 }, { "irq", "h1", 1 }, { "a", "p2", 1 } };

	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "irq", irq_actor, sched);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_SCHEDULE));
	ck_assert_str_eq(error->message, "schedule step 3: a cannot run (an interrupt handler runs "
			 "on its CPU) and never reaches p2");
}
END_TEST

static const char *const xyxy_points[] = { "x", "y", "x", "y", NULL };
static const char *const xy_points[] = { "x", "y", NULL };

START_TEST(explicit_steps_are_followed_exactly_with_counts_and_exit)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Script a = { sched, xyxy_points };
	Script b = { sched, xy_points };
	const SimStep steps[] = {
		{ "a", "x", 2 },             /* through x, y, and stop at the second x */
		{ "b", "x", 1 },
		{ "a", SIM_POINT_EXIT, 1 },  /* past y to the end */
		{ "b", SIM_POINT_EXIT, 1 },
	};

	sim_actor_new(sched, "a", script_actor, &a);
	sim_actor_new(sched, "b", script_actor, &b);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert_str_eq(events, "a@x a@y a@x b@x a@y a@end b@y b@end");
	sim_log_free(log);
}
END_TEST

START_TEST(recorded_schedule_replays_to_the_identical_log)
{
	SimSched *recorder;
	g_autofree gchar *original = run_three(7, SIM_POLICY_RANDOM, TRUE, &recorder);
	guint n_steps;
	const SimStep *steps = sim_sched_recorded(recorder, &n_steps);
	SimLog *log;
	/* another seed: the steps alone must decide */
	g_autoptr(SimSched) replay = sched_with_log(12345, &log);
	Script script = { replay, three_points };

	ck_assert_uint_gt(n_steps, 3);
	sim_sched_set_steps(replay, steps, n_steps, SIM_POLICY_ROUND_ROBIN);
	sim_sched_free(recorder);
	sim_actor_new(replay, "a", script_actor, &script);
	sim_actor_new(replay, "b", script_actor, &script);
	sim_actor_new(replay, "c", script_actor, &script);
	run_or_abort(replay);
	ck_assert_str_eq(sim_log_text(log), original);
	sim_log_free(log);
}
END_TEST

START_TEST(step_naming_an_unknown_actor_is_a_schedule_error)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	g_autoptr(GError) error = NULL;
	Script script = { sched, three_points };
	const SimStep steps[] = { { "ghost", "p1", 1 } };

	sim_actor_new(sched, "a", script_actor, &script);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_SCHEDULE));
	ck_assert_str_eq(error->message, "schedule step 1 names unknown actor 'ghost'");
	ck_assert_str_eq(sim_log_text(log), ""); /* nobody ran */
	sim_log_free(log);
}
END_TEST

START_TEST(step_for_an_actor_that_finishes_first_is_a_schedule_error)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	g_autoptr(GError) error = NULL;
	Script script = { sched, three_points };
	const SimStep steps[] = { { "a", "p9", 1 } };

	sim_actor_new(sched, "a", script_actor, &script);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_SCHEDULE));
	ck_assert_str_eq(error->message, "schedule step 1: a finished before reaching p9");
	sim_log_free(log);
}
END_TEST

/* Takes a spinlock, yields while holding it, releases it. */
typedef struct {
	SimSched *sched;
	SimSpinlock *first;
	SimSpinlock *second;    /* NULL: only one lock */
	const char *points[4];  /* before first, before second (or inside), first unlock, second */
} Locker;

static void
locker_actor(SimActor *actor, gpointer data)
{
	Locker *l = data;

	sim_spin_lock(l->sched, l->first, l->points[0]);
	if (l->second)
		sim_spin_lock(l->sched, l->second, l->points[1]);
	else
		sim_yield(l->sched, l->points[1]);
	emit(l->sched, "locked");
	sim_spin_unlock(l->sched, l->first, l->points[2]);
	if (l->second)
		sim_spin_unlock(l->sched, l->second, l->points[3]);
}

START_TEST(step_whose_actor_blocks_before_its_point_is_a_schedule_error)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	SimSpinlock lock = { .name = "slots_lock" };
	Locker a = { sched, &lock, NULL, { "a.lock", "a.hold", "a.unlock" } };
	Locker b = { sched, &lock, NULL, { "b.lock", "b.crit", "b.unlock" } };
	const SimStep steps[] = { { "a", "a.hold", 1 }, { "b", "b.crit", 1 } };

	sim_actor_new(sched, "a", locker_actor, &a);
	sim_actor_new(sched, "b", locker_actor, &b);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_SCHEDULE));
	ck_assert_str_eq(error->message,
			 "schedule step 2: b blocked (slots_lock) before reaching b.crit");
}
END_TEST

START_TEST(opposite_lock_order_deadlock_names_each_actor_and_its_lock)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	SimSpinlock lock_a = { .name = "lock_a" }, lock_b = { .name = "lock_b" };
	Locker a = { sched, &lock_a, &lock_b, { "a.lock_a", "a.lock_b", "a.unlock_a", "a.unlock_b" } };
	Locker b = { sched, &lock_b, &lock_a, { "b.lock_b", "b.lock_a", "b.unlock_b", "b.unlock_a" } };
	/* each takes its first lock, then each blocks on the other's */
	const SimStep steps[] = { { "a", "a.lock_b", 1 }, { "b", "b.lock_a", 1 },
				  { "a", SIM_POINT_BLOCK, 1 }, { "b", SIM_POINT_BLOCK, 1 } };

	sim_actor_new(sched, "a", locker_actor, &a);
	sim_actor_new(sched, "b", locker_actor, &b);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_DEADLOCK));
	ck_assert_str_eq(error->message, "deadlock: a waits for lock_b, b waits for lock_a");
}
END_TEST

typedef struct {
	SimSched *sched;
	guint64 until;
	guint64 woke_at;
} Sleeper;

static void
sleeper_actor(SimActor *actor, gpointer data)
{
	Sleeper *s = data;

	emit(s->sched, "sleep");
	sim_sleep_until(s->sched, s->until);
	s->woke_at = sim_sched_now(s->sched);
	emit(s->sched, "woke");
}

/* ticks[0..n) = "tick", then the NULL a Script ends with (ticks holds n + 1). */
static const char *const *
fill_ticks(const char **ticks, guint n)
{
	for (guint i = 0; i < n; i++)
		ticks[i] = "tick";
	ticks[n] = NULL;
	return ticks;
}

static const char *const eight_ticks[] = { "tick", "tick", "tick", "tick",
					   "tick", "tick", "tick", "tick", NULL };

START_TEST(sleeper_wakes_when_the_clock_reaches_its_step)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Sleeper s = { sched, 5, 0 };
	Script ticker = { sched, eight_ticks };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "s", sleeper_actor, &s);
	sim_actor_new(sched, "t", script_actor, &ticker);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert_uint_eq(s.woke_at, 5);
	/* each tick advances the clock by one: the sleeper is back after the fifth */
	ck_assert_str_eq(events, "s@sleep t@tick t@tick t@tick t@tick t@tick s@woke "
				 "t@tick t@tick t@tick t@end");
	sim_log_free(log);
}
END_TEST

START_TEST(clock_jumps_to_the_earliest_sleeper_when_nobody_else_can_run)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Sleeper late = { sched, 300, 0 }, early = { sched, 200, 0 };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "late", sleeper_actor, &late);
	sim_actor_new(sched, "early", sleeper_actor, &early);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert_uint_eq(early.woke_at, 200);
	ck_assert_uint_eq(late.woke_at, 300);
	ck_assert_uint_eq(sim_sched_now(sched), 300);
	ck_assert_str_eq(events, "late@sleep early@sleep early@woke late@woke");
	sim_log_free(log);
}
END_TEST

START_TEST(sleeper_that_wakes_earlier_runs_first_though_it_went_to_sleep_first)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Sleeper early = { sched, 200, 0 }, late = { sched, 300, 0 };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "early", sleeper_actor, &early);
	sim_actor_new(sched, "late", sleeper_actor, &late);
	run_or_abort(sched);
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert_uint_eq(early.woke_at, 200);
	ck_assert_uint_eq(late.woke_at, 300);
	ck_assert_str_eq(events, "early@sleep late@sleep early@woke late@woke");
	sim_log_free(log);
}
END_TEST

/* Two sleepers waking at the same step are a real choice: the random policy may wake either
 * first, whichever went to sleep last. */
START_TEST(sleepers_waking_together_wake_in_either_order)
{
	gboolean last_sleeper_first = FALSE, last_sleeper_second = FALSE;

	for (guint64 seed = 1; seed <= 32; seed++) {
		SimLog *log;
		g_autoptr(SimSched) sched = sched_with_log(seed, &log);
		Sleeper a = { sched, 100, 0 }, b = { sched, 100, 0 };

		sim_actor_new(sched, "a", sleeper_actor, &a);
		sim_actor_new(sched, "b", sleeper_actor, &b);
		run_or_abort(sched);
		g_autofree gchar *events = log_events(sim_log_text(log));

		ck_assert_uint_eq(a.woke_at, 100);
		ck_assert_uint_eq(b.woke_at, 100);
		if (strstr(events, "a@sleep b@sleep") || strstr(events, "b@sleep a@sleep")) {
			gboolean b_last = strstr(events, "a@sleep b@sleep") != NULL;
			gboolean b_woke_first = strstr(events, "b@woke a@woke") != NULL;

			last_sleeper_first |= b_last == b_woke_first;
			last_sleeper_second |= b_last != b_woke_first;
		}
		sim_log_free(log);
	}
	ck_assert(last_sleeper_first && last_sleeper_second);
}
END_TEST

/* Record a random run of make_actors' actors and replay the steps on a fresh scheduler (another
 * seed, fresh state): some step must end at must_record, and both logs must be identical. */
typedef void (*MakeActors)(SimSched *sched, gpointer state);

static void
assert_replay_gives_the_same_log(guint64 seed, MakeActors make_actors, gpointer state1,
				 gpointer state2, const char *must_record)
{
	SimLog *log1, *log2;
	g_autoptr(SimSched) recorder = sched_with_log(seed, &log1);
	g_autoptr(SimSched) replay = sched_with_log(seed + 1000, &log2);
	guint n_steps;
	gboolean seen = FALSE;

	sim_sched_set_recording(recorder, TRUE);
	make_actors(recorder, state1);
	run_or_abort(recorder);
	const SimStep *steps = sim_sched_recorded(recorder, &n_steps);

	for (guint i = 0; i < n_steps; i++)
		seen |= strcmp(steps[i].until, must_record) == 0;
	ck_assert_msg(seen, "seed %" G_GUINT64_FORMAT ": no step ends at %s", seed, must_record);
	sim_sched_set_steps(replay, steps, n_steps, SIM_POLICY_RANDOM);
	make_actors(replay, state2);
	run_or_abort(replay);
	ck_assert_str_eq(sim_log_text(log2), sim_log_text(log1));
	sim_log_free(log1);
	sim_log_free(log2);
}

typedef struct {
	SimSpinlock lock;
	Locker a, b;
} Contenders;

static void
make_contenders(SimSched *sched, gpointer state)
{
	Contenders *c = state;

	c->lock = (SimSpinlock){ .name = "slots_lock" };
	c->a = (Locker){ sched, &c->lock, NULL, { "a.lock", "a.hold", "a.unlock" } };
	c->b = (Locker){ sched, &c->lock, NULL, { "b.lock", "b.hold", "b.unlock" } };
	sim_actor_new(sched, "a", locker_actor, &c->a);
	sim_actor_new(sched, "b", locker_actor, &c->b);
}

START_TEST(recorded_schedule_in_which_an_actor_blocks_replays_to_the_identical_log)
{
	Contenders first, second;

	/* seed 1 makes a block on slots_lock (the assertion below checks it does) */
	assert_replay_gives_the_same_log(1, make_contenders, &first, &second, SIM_POINT_BLOCK);
}
END_TEST

typedef struct {
	Sleeper sleeper;
	Script ticker;
} SleepAndTick;

static void
make_sleep_and_tick(SimSched *sched, gpointer state)
{
	SleepAndTick *st = state;

	st->sleeper = (Sleeper){ sched, 4, 0 };
	st->ticker = (Script){ sched, eight_ticks };
	sim_actor_new(sched, "s", sleeper_actor, &st->sleeper);
	sim_actor_new(sched, "t", script_actor, &st->ticker);
}

START_TEST(recorded_schedule_in_which_an_actor_sleeps_replays_to_the_identical_log)
{
	SleepAndTick first, second;

	assert_replay_gives_the_same_log(1, make_sleep_and_tick, &first, &second, SIM_POINT_SLEEP);
	ck_assert_uint_eq(second.sleeper.woke_at, first.sleeper.woke_at);
}
END_TEST

typedef struct {
	Sleeper sleeper;
	Script before, after;
} LoneSleeper;

static void
lone_sleeper_actor(SimActor *actor, gpointer data)
{
	LoneSleeper *l = data;

	script_actor(actor, &l->before);
	sleeper_actor(actor, &l->sleeper);
	script_actor(actor, &l->after);
}

static void
make_lone_sleeper(SimSched *sched, gpointer state)
{
	LoneSleeper *l = state;

	l->sleeper = (Sleeper){ sched, 100, 0 };
	l->before = l->after = (Script){ sched, three_points };
	sim_actor_new(sched, "s", lone_sleeper_actor, l);
}

START_TEST(recorded_schedule_in_which_the_clock_jumps_for_a_lone_sleeper_replays)
{
	LoneSleeper first, second;

	assert_replay_gives_the_same_log(1, make_lone_sleeper, &first, &second, SIM_POINT_EXIT);
	ck_assert_uint_eq(first.sleeper.woke_at, 100);
	ck_assert_uint_eq(second.sleeper.woke_at, 100);
}
END_TEST

static void
failing_actor(SimActor *actor, gpointer data)
{
	SimSched *sched = data;

	emit(sched, "before");
	sim_sched_fail(sched, "first_invariant");
	sim_sched_fail(sched, "second_invariant");
	emit(sched, "after_fail"); /* the run stops at the next yield point, not here */
	sim_yield(sched, "p1");
	emit(sched, "never");
}

/* One of many actors: yields, and depending on its index sleeps or contends for a lock. */
typedef struct {
	SimSched *sched;
	SimSpinlock *lock;
	guint index;
} Crowd;

static void
crowd_actor(SimActor *actor, gpointer data)
{
	Crowd *c = data;

	for (guint round = 0; round < 4; round++) {
		sim_yield(c->sched, "crowd.a");
		if (c->index % 5 == round)
			sim_sleep_until(c->sched, sim_sched_now(c->sched) + 3 + c->index % 11);
		if (c->index % 3 == 0) {
			sim_spin_lock(c->sched, c->lock, "crowd.lock");
			sim_yield(c->sched, "crowd.hold");
			sim_spin_unlock(c->sched, c->lock, "crowd.unlock");
		}
	}
	emit(c->sched, "end");
}

/* The log of 70 actors (two bitmap words) that yield, sleep and contend, under policy. */
static gchar *
run_crowd(SimPolicy policy)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(7, &log);
	SimSpinlock lock = { .name = "crowd_lock" };
	Crowd crowd[70];

	sim_sched_set_policy(sched, policy);
	for (guint i = 0; i < G_N_ELEMENTS(crowd); i++) {
		g_autofree gchar *name = g_strdup_printf("c%02u", i);

		crowd[i] = (Crowd){ sched, &lock, i };
		sim_actor_new(sched, name, crowd_actor, &crowd[i]);
	}
	run_or_abort(sched);
	gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, sim_log_text(log), -1);

	sim_log_free(log);
	return digest;
}

/* The seeded choice is the n-th runnable actor in creation order, as a scan of every actor
 * found it: the digests are those of the scheduler that scanned (kvmsim before issue 7). */
START_TEST(many_actors_that_sleep_and_block_take_the_scan_s_interleaving)
{
	g_autofree gchar *random = run_crowd(SIM_POLICY_RANDOM);
	g_autofree gchar *round_robin = run_crowd(SIM_POLICY_ROUND_ROBIN);

	ck_assert_str_eq(random,
			 "d3e61c4d3fe7aceaeba1caec5ae18496dedd3a6e3a005e691c41cada4d049194");
	ck_assert_str_eq(round_robin,
			 "b24f35695b74ee83a995110e1b1dbe882e59319e7a1765093e371cd827cd81f3");
}
END_TEST

/*
 * Under the random policy a sleeper that went to sleep after another but wakes before it is a
 * candidate from its own step on, though the pick takes the ready list's shortcut while every
 * blocked actor sleeps: the first wake it compares with is the earliest of all sleepers, not
 * the first sleeper's.
 */
/* A sleeper that first yields until the clock reaches step 8 (after the others went to sleep). */
static void
late_sleeper_actor(SimActor *actor, gpointer data)
{
	Sleeper *s = data;

	while (sim_sched_now(s->sched) < 8)
		sim_yield(s->sched, "before_sleep");
	sleeper_actor(actor, data);
}

START_TEST(sleeper_that_sleeps_later_but_wakes_earlier_can_run_at_its_step)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(5, &log);
	Sleeper late = { sched, 60, 0 }, early = { sched, 12, 0 };
	const char *ticks[81];
	Script ticker = { sched, fill_ticks(ticks, 80) };

	sim_sched_set_policy(sched, SIM_POLICY_RANDOM);
	sim_actor_new(sched, "late", sleeper_actor, &late);
	sim_actor_new(sched, "early", late_sleeper_actor, &early);
	sim_actor_new(sched, "t", script_actor, &ticker);
	run_or_abort(sched);
	/* the seeded choice between the ticker and the woken sleeper, as a scan of both made it */
	ck_assert_uint_eq(early.woke_at, 13);
	ck_assert_uint_eq(late.woke_at, 60);
	sim_log_free(log);
}
END_TEST

/* One of many actors that only sleep: yields, and now and then sleeps for a while that
 * depends on its index, so that sleepers wake while others sleep on. */
static void
napper_actor(SimActor *actor, gpointer data)
{
	Crowd *c = data;

	for (guint round = 0; round < 12; round++) {
		sim_yield(c->sched, "nap.a");
		guint64 nap = 2 + (c->index * 7 + round) % 13;

		if ((c->index + round) % 3 == 0)
			sim_sleep_until(c->sched, sim_sched_now(c->sched) + nap);
		sim_yield(c->sched, "nap.b");
	}
}

/*
 * Twenty actors that only sleep, for varied times, under the random policy: the picks take the
 * ready list's shortcut while every blocked actor sleeps (sched_blocked_all_known()), and the
 * interleaving must be the one of asking every blocked actor at every pick. The digest is that
 * of the scheduler before the shortcut.
 */
START_TEST(sleepers_alone_take_the_interleaving_of_asking_each_blocked_actor)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(11, &log);
	Crowd nappers[20];

	sim_sched_set_policy(sched, SIM_POLICY_RANDOM);
	for (guint i = 0; i < G_N_ELEMENTS(nappers); i++) {
		g_autofree gchar *name = g_strdup_printf("n%02u", i);

		nappers[i] = (Crowd){ sched, NULL, i };
		sim_actor_new(sched, name, napper_actor, &nappers[i]);
	}
	run_or_abort(sched);
	g_autofree gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
								  sim_log_text(log), -1);

	sim_log_free(log);
	ck_assert_str_eq(digest, "189b0c2858271da2fbfb30e0cd46db20a90627c42233d397c943dd2b8c69baf8");
}
END_TEST

/* A pick costs the same whether 2 or 70 actors can run: the scheduler keeps the runnable set
 * as actors block, sleep and finish instead of asking every actor at every yield point. */
START_TEST(a_pick_looks_at_the_waiters_not_at_every_actor)
{
	const char *ticks[65];

	fill_ticks(ticks, 64);
	for (guint n = 2; n <= 70; n += 68) {
		g_autoptr(SimSched) sched = sim_sched_new(3);
		Script script = { sched, ticks };

		for (guint i = 0; i < n; i++) {
			g_autofree gchar *name = g_strdup_printf("t%02u", i);

			sim_actor_new(sched, name, script_actor, &script);
		}
		run_or_abort(sched);
		/* one look per pick, and a rebuild of the ready list after each finish */
		ck_assert_uint_eq(sim_sched_now(sched), 64 * n);
		ck_assert_uint_le(sim_sched_examined(sched), 2 * 64 * n);
	}
}
END_TEST

START_TEST(failure_stops_the_run_at_the_next_yield_point)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Script other = { sched, three_points };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "f", failing_actor, sched);
	sim_actor_new(sched, "o", script_actor, &other);
	run_or_abort(sched); /* a failed run is not a scheduler error */
	g_autofree gchar *events = log_events(sim_log_text(log));

	ck_assert(sim_sched_failed(sched));
	ck_assert_str_eq(sim_sched_failure(sched), "first_invariant");
	ck_assert_str_eq(events, "f@before f@after_fail");
	sim_log_free(log);
}
END_TEST

/* Yields at "spin" up to limit times (the watchdog must stop it long before), then returns;
 * with progress, like a guest that spins on a flag: it retires instructions every time. */
typedef struct {
	SimSched *sched;
	guint limit;
	gboolean progress;
	guint spins;
} Spinner;

static void
spinner_actor(SimActor *actor, gpointer data)
{
	Spinner *sp = data;

	for (sp->spins = 0; sp->spins < sp->limit; sp->spins++) {
		if (sp->progress)
			sim_sched_progress(sp->sched);
		sim_yield(sp->sched, "spin");
	}
}

START_TEST(step_whose_actor_never_reaches_its_point_is_stopped_by_the_watchdog)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	Spinner a = { sched, 1u << 30, TRUE, 0 };
	Script b = { sched, three_points };
	const SimStep steps[] = { { "a", "never", 1 }, { "b", SIM_POINT_EXIT, 1 } };

	sim_sched_set_watchdog(sched, 4096);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "a", spinner_actor, &a);
	sim_actor_new(sched, "b", script_actor, &b);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert_int_eq(error->code, SIM_SCHED_ERROR_WATCHDOG);
	ck_assert_str_eq(error->message,
			 "schedule step 1 (a until never): a passed 4096 yield points without "
			 "reaching never while b could run (watchdog: --watchdog raises it)");
	ck_assert_uint_eq(a.spins + 1, 4096); /* stopped at its 4096th yield */
}
END_TEST

START_TEST(step_of_a_lone_actor_is_not_stopped_by_the_step_watchdog)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	Spinner a = { sched, 20000, TRUE, 0 };
	Script b = { sched, three_points };
	const SimStep steps[] = { { "b", SIM_POINT_EXIT, 1 }, { "a", SIM_POINT_EXIT, 1 } };

	sim_sched_set_watchdog(sched, 4096);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "a", spinner_actor, &a);
	sim_actor_new(sched, "b", script_actor, &b);
	run_or_abort(sched);
	ck_assert_uint_eq(a.spins, 20000);
}
END_TEST

START_TEST(livelock_names_each_actor_and_what_it_waits_for)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	Spinner a = { sched, 1u << 30, FALSE, 0 };
	Sleeper s = { sched, G_MAXUINT64 - 4096, 0 };

	sim_sched_set_watchdog(sched, 1000);
	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "a", spinner_actor, &a);
	sim_actor_new(sched, "s", sleeper_actor, &s);
	ck_assert(!sim_sched_run(sched, &error));
	ck_assert_int_eq(error->code, SIM_SCHED_ERROR_LIVELOCK);
	ck_assert_str_eq(error->message,
			 "livelock: no progress (no guest instruction retired, no event performed) "
			 "in the 1000 yield points since step 0: a at spin, s sleeps until step "
			 "18446744073709547519 (watchdog: --watchdog raises it)");
}
END_TEST

START_TEST(sleep_until_the_last_step_wakes_instead_of_deadlocking)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	Sleeper s = { sched, G_MAXUINT64, 0 };
	Script t = { sched, three_points };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_actor_new(sched, "s", sleeper_actor, &s);
	sim_actor_new(sched, "t", script_actor, &t);
	run_or_abort(sched);
	ck_assert_uint_eq(s.woke_at, G_MAXUINT64);
	sim_log_free(log);
}
END_TEST

/* Frames with redzones all down the stack (each a buffer ASan guards), then a failed run
 * abandons the actor right there, its frames never unwound. */
static guint
park_deep(SimSched *sched, guint depth)
{
	volatile char frame[1024];

	frame[depth % sizeof(frame)] = (char)depth;
	if (depth == 0) {
		sim_sched_fail(sched, "abandon");
		sim_yield(sched, "parked");
		return 0;
	}
	return park_deep(sched, depth - 1) + (guint)frame[depth % sizeof(frame)];
}

static void
parking_actor(SimActor *actor, gpointer data)
{
	park_deep(data, 128);
}

/* Under ASan, the MiB of stack below the caller's frame (where an abandoned actor's frames were,
 * on a reused stack) holds no poison: a stale redzone there is what uninstrumented code (glib,
 * libc through ASan's interceptors) reports as an underflow. Without ASan, nothing to check. */
static void __attribute__((noinline))
assert_stack_below_is_clean(void)
{
#ifdef SIM_ASAN
	const char *frame = __builtin_frame_address(0);
	const gsize below = 1u << 20, slack = 4096; /* slack: the runtime's own call */

	ck_assert_ptr_null(__asan_region_is_poisoned((void *)(frame - below), below - slack));
#endif
}

/* A large frame, written end to end: every byte of it must be addressable. */
static void __attribute__((noinline))
write_large_frame(guint *sum)
{
	char frame[256 << 10];

	memset(frame, 0x5a, sizeof(frame));
	*sum = (guint)frame[sizeof(frame) - 1] + (guint)frame[0];
}

/* A fresh actor's stack is clean (checked before any frame of its own covers it), and a large
 * frame on it is addressable. */
static void
large_frame_actor(SimActor *actor, gpointer data)
{
	assert_stack_below_is_clean();
	write_large_frame(data);
}

START_TEST(stack_of_an_abandoned_actor_is_reused_without_its_redzones)
{
	guint sums[8] = { 0 };

	for (guint round = 0; round < 4; round++) {
		g_autoptr(SimSched) parked = sim_sched_new(1);

		sim_actor_new(parked, "parked", parking_actor, parked);
		sim_actor_new(parked, "other", parking_actor, parked);
		run_or_abort(parked);
		ck_assert(sim_sched_failed(parked));
	}
	/* the next scheduler's stacks are the freed ones (kept for reuse, or mapped again at their
	 * addresses): one actor for each, so the parked actors' stacks are among them (under ASan a
	 * stale redzone there is a stack-buffer-underflow report) */
	g_autoptr(SimSched) sched = sim_sched_new(1);

	for (guint i = 0; i < G_N_ELEMENTS(sums); i++) {
		g_autofree gchar *name = g_strdup_printf("large%u", i);

		sim_actor_new(sched, name, large_frame_actor, &sums[i]);
	}
	run_or_abort(sched);
	for (guint i = 0; i < G_N_ELEMENTS(sums); i++)
		ck_assert_uint_eq(sums[i], 2 * 0x5a);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Locks
 */

/* srcu_read_lock(), a few yields inside, srcu_read_unlock(). */
typedef struct {
	SimSched *sched;
	SimSrcu *srcu;
	guint in_points; /* yields at "reader.in" inside the read side */
	gboolean inside;
} SrcuReader;

static void
srcu_reader_actor(SimActor *actor, gpointer data)
{
	SrcuReader *r = data;
	guint64 idx = sim_srcu_read_lock(r->srcu);

	r->inside = TRUE;
	for (guint i = 0; i < r->in_points; i++)
		sim_yield(r->sched, "reader.in");
	r->inside = FALSE;
	sim_srcu_read_unlock(r->srcu, idx);
}

/* synchronize_srcu(), then note which readers are still inside. */
typedef struct {
	SimSched *sched;
	SimSrcu *srcu;
	SrcuReader *early, *late;
	gboolean early_inside_after, late_inside_after;
} SrcuSyncer;

static void
srcu_syncer_actor(SimActor *actor, gpointer data)
{
	SrcuSyncer *s = data;

	sim_synchronize_srcu(s->sched, s->srcu, "sync");
	s->early_inside_after = s->early->inside;
	s->late_inside_after = s->late ? s->late->inside : FALSE;
}

START_TEST(synchronize_srcu_waits_for_a_reader_that_entered_before_it)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	SimSrcu srcu = { .name = "kvm_srcu" };
	SrcuReader reader = { sched, &srcu, 1, FALSE };
	SrcuSyncer syncer = { sched, &srcu, &reader, NULL, TRUE, FALSE };
	/* a synchronize that did not wait would finish: "syncer finished before reaching block" */
	const SimStep steps[] = { { "reader", "reader.in", 1 }, { "syncer", SIM_POINT_BLOCK, 1 },
				  { "reader", SIM_POINT_EXIT, 1 }, { "syncer", SIM_POINT_EXIT, 1 } };

	sim_actor_new(sched, "reader", srcu_reader_actor, &reader);
	sim_actor_new(sched, "syncer", srcu_syncer_actor, &syncer);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert_msg(sim_sched_run(sched, &error), "%s", error ? error->message : "");
	ck_assert(!syncer.early_inside_after);
	sim_srcu_clear(&srcu);
}
END_TEST

START_TEST(synchronize_srcu_does_not_wait_for_a_reader_that_entered_after_it)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(GError) error = NULL;
	SimSrcu srcu = { .name = "kvm_srcu" };
	SrcuReader early = { sched, &srcu, 1, FALSE };
	SrcuReader late = { sched, &srcu, 1, FALSE };
	SrcuSyncer syncer = { sched, &srcu, &early, &late, TRUE, FALSE };
	/* late enters while syncer waits; syncer must be able to finish while late is inside */
	const SimStep steps[] = {
		{ "early", "reader.in", 1 }, { "syncer", SIM_POINT_BLOCK, 1 },
		{ "late", "reader.in", 1 },  { "early", SIM_POINT_EXIT, 1 },
		{ "syncer", SIM_POINT_EXIT, 1 }, { "late", SIM_POINT_EXIT, 1 },
	};

	sim_actor_new(sched, "early", srcu_reader_actor, &early);
	sim_actor_new(sched, "syncer", srcu_syncer_actor, &syncer);
	sim_actor_new(sched, "late", srcu_reader_actor, &late);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert_msg(sim_sched_run(sched, &error), "%s", error ? error->message : "");
	ck_assert(!syncer.early_inside_after);
	ck_assert(syncer.late_inside_after);
	sim_srcu_clear(&srcu);
}
END_TEST

/* The scheduler's inline generator draws exactly what GRand draws for the same key, in every
 * range (random-policy traces and logs were recorded with GRand's numbers). */
START_TEST(scheduler_stream_is_grand_s_stream)
{
	static const guint32 ranges[] = { 1, 2, 3, 7, 64, 65, 1000, 0x10001, 0x7fffffff };

	for (guint64 seed = 0; seed < 40; seed++) {
		guint64 s = seed * 0x9e3779b97f4a7c15ull;
		guint32 key[2] = { (guint32)s, (guint32)(s >> 32) };
		g_autoptr(GRand) grand = g_rand_new_with_seed_array(key, 2);
		SimRng rng;

		sim_rng_seed_array(&rng, key, 2);
		for (guint i = 0; i < 3000; i++) {
			guint32 n = ranges[(i + seed) % G_N_ELEMENTS(ranges)];

			ck_assert_uint_eq(sim_rng_below(&rng, n),
					  (guint32)g_rand_int_range(grand, 0, (gint32)n));
		}
		ck_assert_uint_eq(sim_rng_next(&rng), g_rand_int(grand));
	}
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc;

	tc = tcase_create("sched");

	tcase_add_test(tc, same_seed_gives_a_byte_identical_log);
	tcase_add_test(tc, scheduler_stream_is_grand_s_stream);
	tcase_add_test(tc, different_seed_gives_a_different_interleaving);
	tcase_add_test(tc, round_robin_runs_actors_in_creation_order_at_each_yield);
	tcase_add_test(tc, held_actor_runs_only_after_the_handler_releases_it);
	tcase_add_test(tc, step_naming_a_held_actor_is_a_schedule_error);
	tcase_add_test(tc, explicit_steps_are_followed_exactly_with_counts_and_exit);
	tcase_add_test(tc, recorded_schedule_replays_to_the_identical_log);
	tcase_add_test(tc, recorded_schedule_in_which_an_actor_blocks_replays_to_the_identical_log);
	tcase_add_test(tc, recorded_schedule_in_which_an_actor_sleeps_replays_to_the_identical_log);
	tcase_add_test(tc, recorded_schedule_in_which_the_clock_jumps_for_a_lone_sleeper_replays);
	tcase_add_test(tc, step_naming_an_unknown_actor_is_a_schedule_error);
	tcase_add_test(tc, step_for_an_actor_that_finishes_first_is_a_schedule_error);
	tcase_add_test(tc, step_whose_actor_blocks_before_its_point_is_a_schedule_error);
	tcase_add_test(tc, opposite_lock_order_deadlock_names_each_actor_and_its_lock);
	tcase_add_test(tc, sleeper_wakes_when_the_clock_reaches_its_step);
	tcase_add_test(tc, clock_jumps_to_the_earliest_sleeper_when_nobody_else_can_run);
	tcase_add_test(tc, sleeper_that_wakes_earlier_runs_first_though_it_went_to_sleep_first);
	tcase_add_test(tc, sleepers_waking_together_wake_in_either_order);
	tcase_add_test(tc, failure_stops_the_run_at_the_next_yield_point);
	tcase_add_test(tc, stack_of_an_abandoned_actor_is_reused_without_its_redzones);
	tcase_add_test(tc, step_whose_actor_never_reaches_its_point_is_stopped_by_the_watchdog);
	tcase_add_test(tc, step_of_a_lone_actor_is_not_stopped_by_the_step_watchdog);
	tcase_add_test(tc, livelock_names_each_actor_and_what_it_waits_for);
	tcase_add_test(tc, sleep_until_the_last_step_wakes_instead_of_deadlocking);
	tcase_add_test(tc, many_actors_that_sleep_and_block_take_the_scan_s_interleaving);
	tcase_add_test(tc, sleepers_alone_take_the_interleaving_of_asking_each_blocked_actor);
	tcase_add_test(tc, sleeper_that_sleeps_later_but_wakes_earlier_can_run_at_its_step);
	tcase_add_test(tc, a_pick_looks_at_the_waiters_not_at_every_actor);
		suite_add_tcase(s, tc);
	tc = tcase_create("locks");
	tcase_add_test(tc, synchronize_srcu_waits_for_a_reader_that_entered_before_it);
	tcase_add_test(tc, synchronize_srcu_does_not_wait_for_a_reader_that_entered_after_it);
		suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(sched_suite());
}
