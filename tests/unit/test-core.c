/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core: the scheduler, locks, host memory, the host mm, host-event specs and output files. */
#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/counters.h"
#include "sim/core/host-events.h"
#include "sim/core/hostmem.h"
#include "sim/core/lock.h"
#include "sim/core/log.h"
#include "sim/core/mm.h"
#include "sim/core/outfile.h"
#include "sim/core/ptpool.h"
#include "sim/core/sched.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers
 */

/* The messages of the test_ev events in a captured log, space separated: "a@p1 b@p1 ...". */
static gchar *
log_events(const char *log_text)
{
	static const char tag[] = " test_ev: ";
	g_auto(GStrv) lines = g_strsplit(log_text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (guint i = 0; lines[i]; i++) {
		const char *ev = strstr(lines[i], tag);

		if (ev)
			g_string_append_printf(out, "%s%s", out->len ? " " : "", ev + strlen(tag));
	}
	return g_string_free(out, FALSE);
}

static void
emit(SimSched *sched, const char *what)
{
	sim_log_emit(sim_sched_log(sched), "test_ev", "%s@%s", sim_sched_current_name(sched), what);
}

/* An actor that, at each of its points, says so and then yields there; "end" when it returns. */
typedef struct {
	SimSched *sched;
	const char *const *points; /* NULL-terminated */
} Script;

static void
script_actor(SimActor *actor, gpointer data)
{
	const Script *script = data;

	for (guint i = 0; script->points[i]; i++) {
		emit(script->sched, script->points[i]);
		sim_yield(script->sched, script->points[i]);
	}
	emit(script->sched, "end");
}

static const char *const three_points[] = { "p1", "p2", "p3", NULL };

/* A scheduler with a capturing log. */
static SimSched *
sched_with_log(guint64 seed, SimLog **out_log)
{
	SimSched *sched = sim_sched_new(seed);

	*out_log = sim_log_new(sched);
	sim_log_capture(*out_log);
	return sched;
}

static void
run_or_abort(SimSched *sched)
{
	g_autoptr(GError) error = NULL;

	if (!sim_sched_run(sched, &error))
		ck_abort_msg("the run failed: %s", error->message);
}

/* Run actors a, b and c, each yielding at p1, p2, p3; the captured log. */
static gchar *
run_three(guint64 seed, SimPolicy policy, gboolean record, SimSched **out_sched)
{
	SimLog *log;
	SimSched *sched = sched_with_log(seed, &log);
	Script script = { sched, three_points };

	sim_sched_set_policy(sched, policy);
	sim_sched_set_recording(sched, record);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	sim_actor_new(sched, "c", script_actor, &script);
	run_or_abort(sched);
	gchar *text = g_strdup(sim_log_text(log));

	sim_log_free(log);
	sim_sched_set_log(sched, NULL);
	if (out_sched)
		*out_sched = sched;
	else
		sim_sched_free(sched);
	return text;
}

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
	SimSpinlock lock = { "slots_lock", NULL };
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
	SimSpinlock lock_a = { "lock_a", NULL }, lock_b = { "lock_b", NULL };
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

	c->lock = (SimSpinlock){ "slots_lock", NULL };
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

/* ---------------------------------------------------------------------------------------------
 * Locks
 */

/* Takes an rwlock for read or write, yields inside, releases it; says when it got in and out. */
typedef struct {
	SimSched *sched;
	SimRwlock *lock;
	gboolean write;
	const char *points[3]; /* lock, inside, unlock */
	guint readers_inside;  /* lock->readers seen inside */
} RwUser;

static void
rw_actor(SimActor *actor, gpointer data)
{
	RwUser *u = data;

	if (u->write)
		sim_write_lock(u->sched, u->lock, u->points[0]);
	else
		sim_read_lock(u->sched, u->lock, u->points[0]);
	u->readers_inside = u->lock->readers;
	emit(u->sched, "in");
	sim_yield(u->sched, u->points[1]);
	emit(u->sched, "out");
	if (u->write)
		sim_write_unlock(u->sched, u->lock, u->points[2]);
	else
		sim_read_unlock(u->sched, u->lock, u->points[2]);
}

/* Run two rwlock users (first created first) with steps; the events, or the error. */
static gchar *
run_rw_pair(RwUser *first, const char *first_name, RwUser *second, const char *second_name,
	    const SimStep *steps, guint n_steps, GError **error)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	gchar *events = NULL;

	first->sched = second->sched = sched;
	sim_actor_new(sched, first_name, rw_actor, first);
	sim_actor_new(sched, second_name, rw_actor, second);
	sim_sched_set_steps(sched, steps, n_steps, SIM_POLICY_ROUND_ROBIN);
	if (sim_sched_run(sched, error))
		events = log_events(sim_log_text(log));
	sim_log_free(log);
	return events;
}

START_TEST(readers_share_the_rwlock)
{
	g_autoptr(GError) error = NULL;
	SimRwlock lock = { "mmu_lock", 0, NULL };
	RwUser r1 = { NULL, &lock, FALSE, { "r1.lock", "r1.in", "r1.unlock" }, 0 };
	RwUser r2 = { NULL, &lock, FALSE, { "r2.lock", "r2.in", "r2.unlock" }, 0 };
	/* r2 would block (a schedule error) if r1 kept it out */
	const SimStep steps[] = { { "r1", "r1.in", 1 }, { "r2", "r2.in", 1 } };
	g_autofree gchar *events =
		run_rw_pair(&r1, "r1", &r2, "r2", steps, G_N_ELEMENTS(steps), &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "r1@in r2@in r1@out r2@out");
	ck_assert_uint_eq(r2.readers_inside, 2);
	ck_assert(!sim_rwlock_held(&lock));
}
END_TEST

START_TEST(writer_keeps_a_reader_out_until_it_releases)
{
	g_autoptr(GError) error = NULL;
	SimRwlock lock = { "mmu_lock", 0, NULL };
	RwUser w = { NULL, &lock, TRUE, { "w.lock", "w.in", "w.unlock" }, 0 };
	RwUser r = { NULL, &lock, FALSE, { "r.lock", "r.in", "r.unlock" }, 0 };
	/* if r got in, it would finish instead of blocking: "r finished before reaching block" */
	const SimStep steps[] = { { "w", "w.in", 1 }, { "r", SIM_POINT_BLOCK, 1 },
				  { "w", SIM_POINT_EXIT, 1 }, { "r", SIM_POINT_EXIT, 1 } };
	g_autofree gchar *events =
		run_rw_pair(&w, "w", &r, "r", steps, G_N_ELEMENTS(steps), &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "w@in w@out r@in r@out");
}
END_TEST

START_TEST(writer_keeps_another_writer_out_until_it_releases)
{
	g_autoptr(GError) error = NULL;
	SimRwlock lock = { "mmu_lock", 0, NULL };
	RwUser w1 = { NULL, &lock, TRUE, { "w1.lock", "w1.in", "w1.unlock" }, 0 };
	RwUser w2 = { NULL, &lock, TRUE, { "w2.lock", "w2.in", "w2.unlock" }, 0 };
	const SimStep steps[] = { { "w1", "w1.in", 1 }, { "w2", SIM_POINT_BLOCK, 1 },
				  { "w1", SIM_POINT_EXIT, 1 }, { "w2", SIM_POINT_EXIT, 1 } };
	g_autofree gchar *events =
		run_rw_pair(&w1, "w1", &w2, "w2", steps, G_N_ELEMENTS(steps), &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "w1@in w1@out w2@in w2@out");
}
END_TEST

START_TEST(writer_waits_for_the_reader_inside)
{
	g_autoptr(GError) error = NULL;
	SimRwlock lock = { "mmu_lock", 0, NULL };
	RwUser r = { NULL, &lock, FALSE, { "r.lock", "r.in", "r.unlock" }, 0 };
	RwUser w = { NULL, &lock, TRUE, { "w.lock", "w.in", "w.unlock" }, 0 };
	const SimStep steps[] = { { "r", "r.in", 1 }, { "w", SIM_POINT_BLOCK, 1 },
				  { "r", SIM_POINT_EXIT, 1 }, { "w", SIM_POINT_EXIT, 1 } };
	g_autofree gchar *events =
		run_rw_pair(&r, "r", &w, "w", steps, G_N_ELEMENTS(steps), &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "r@in r@out w@in w@out");
}
END_TEST

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

/* ---------------------------------------------------------------------------------------------
 * Host memory
 */

#define WINDOW_GPA 0x100000ull
#define WINDOW_SIZE (16 * SIM_PAGE_SIZE)

typedef struct {
	guint frees;
	SimPfn freed;
	guint corrupts;
	SimPfn corrupt_pfn;
	guint corrupt_offset;
} HookLog;

static void
on_free(gpointer data, SimPfn pfn)
{
	HookLog *h = data;

	h->frees++;
	h->freed = pfn;
}

static void
on_corrupt(gpointer data, SimPfn pfn, guint offset)
{
	HookLog *h = data;

	h->corrupts++;
	h->corrupt_pfn = pfn;
	h->corrupt_offset = offset;
}

static SimHostMem *
hostmem_new(guint64 nr_frames, guint quarantine, HookLog *hooks)
{
	g_autoptr(GError) error = NULL;
	SimHostMem *hm = sim_hostmem_new(nr_frames, quarantine, NULL, &error);

	ck_assert_msg(hm != NULL, "%s", error ? error->message : "");
	ck_assert(sim_hostmem_add_window(hm, WINDOW_GPA, WINDOW_SIZE, &error));
	if (hooks)
		sim_hostmem_set_hooks(hm, on_free, on_corrupt, hooks);
	return hm;
}

/* Is every byte of buf equal to byte? */
static gboolean
all_bytes(const guint8 *buf, gsize len, guint8 byte)
{
	for (gsize i = 0; i < len; i++)
		if (buf[i] != byte)
			return FALSE;
	return TRUE;
}

static gboolean
frame_is_filled_with(SimHostMem *hm, SimPfn pfn, guint8 byte)
{
	guint8 page[SIM_PAGE_SIZE];

	sim_frame_read(hm, pfn, 0, page, sizeof(page));
	return all_bytes(page, sizeof(page), byte);
}

START_TEST(new_frame_reads_zeros)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);

	ck_assert(sim_frame_allocated(hm, pfn));
	ck_assert(frame_is_filled_with(hm, pfn, 0));
}
END_TEST

START_TEST(reused_frame_reads_zeros_not_its_old_content)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 0, NULL);
	SimPfn pfn = sim_frame_alloc(hm);
	guint32 gen = sim_frame_gen(hm, pfn);

	sim_frame_write(hm, pfn, 100, "secret", 6);
	sim_frame_free(hm, pfn);
	ck_assert_uint_eq(sim_frame_alloc(hm), pfn); /* no quarantine: it comes straight back */
	ck_assert_uint_eq(sim_frame_gen(hm, pfn), gen + 1);
	ck_assert(frame_is_filled_with(hm, pfn, 0));
}
END_TEST

START_TEST(freed_frame_is_poisoned_in_its_storage)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);

	sim_frame_write(hm, pfn, 0, "data", 4);
	sim_frame_free(hm, pfn);
	ck_assert(!sim_frame_allocated(hm, pfn));
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

START_TEST(freed_frame_poisons_the_gpa_page_that_holds_it_and_clears_the_holder)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);
	guint64 gpa = WINDOW_GPA + 3 * SIM_PAGE_SIZE;

	sim_hostmem_make_resident(hm, gpa, pfn);
	sim_frame_write(hm, pfn, 0, "data", 4);
	ck_assert_int_eq(memcmp(sim_hostmem_gpa_ptr(hm, gpa), "data", 4), 0);
	sim_frame_free(hm, pfn);
	ck_assert(all_bytes(sim_hostmem_gpa_ptr(hm, gpa), SIM_PAGE_SIZE, SIM_POISON_FREE));
	ck_assert_uint_eq(sim_hostmem_resident(hm, gpa), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, pfn), G_MAXUINT64);
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

START_TEST(write_after_free_is_reported_once_the_frame_leaves_quarantine)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(8, 1, &hooks);
	SimPfn victim = sim_frame_alloc(hm);
	SimPfn other = sim_frame_alloc(hm);

	sim_frame_free(hm, victim);
	sim_frame_write(hm, victim, 123, "x", 1); /* the use after free */
	sim_frame_free(hm, other);                /* pushes victim out of the quarantine */
	ck_assert_uint_eq(sim_frame_alloc(hm), victim);
	ck_assert_uint_eq(hooks.corrupts, 1);
	ck_assert_uint_eq(hooks.corrupt_pfn, victim);
	ck_assert_uint_eq(hooks.corrupt_offset, 123);
}
END_TEST

START_TEST(untouched_frame_comes_out_of_quarantine_unreported)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(8, 1, &hooks);
	SimPfn victim = sim_frame_alloc(hm);
	SimPfn other = sim_frame_alloc(hm);

	sim_frame_free(hm, victim);
	sim_frame_free(hm, other);
	ck_assert_uint_eq(sim_frame_alloc(hm), victim);
	ck_assert_uint_eq(hooks.corrupts, 0);
}
END_TEST

START_TEST(making_a_frame_resident_writes_the_previous_one_back_and_loads_the_new_one)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn first = sim_frame_alloc(hm);
	SimPfn second = sim_frame_alloc(hm);
	guint64 gpa = WINDOW_GPA + SIM_PAGE_SIZE;
	guint8 buf[8];

	sim_frame_write(hm, first, 0, "first", 6);
	sim_frame_write(hm, second, 0, "second", 7);
	sim_hostmem_make_resident(hm, gpa, first);
	ck_assert_str_eq((const char *)sim_hostmem_gpa_ptr(hm, gpa), "first");
	/* the guest writes through the GPA page */
	memcpy(sim_hostmem_gpa_ptr(hm, gpa), "FIRST", 6);
	sim_hostmem_make_resident(hm, gpa, second);
	ck_assert_str_eq((const char *)sim_hostmem_gpa_ptr(hm, gpa), "second");
	ck_assert_uint_eq(sim_hostmem_resident(hm, gpa), second);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, first), G_MAXUINT64);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, second), gpa);
	sim_frame_read(hm, first, 0, buf, 6);
	ck_assert_str_eq((const char *)buf, "FIRST");
}
END_TEST

START_TEST(frame_pinned_by_get_is_freed_only_at_the_last_put)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, &hooks);
	SimPfn pfn = sim_frame_alloc(hm);

	sim_frame_get(hm, pfn);
	sim_frame_get(hm, pfn);
	sim_frame_write(hm, pfn, 0, "pinned", 6);
	sim_frame_free(hm, pfn);
	ck_assert(sim_frame_allocated(hm, pfn));
	sim_frame_put(hm, pfn);
	ck_assert(sim_frame_allocated(hm, pfn));
	ck_assert_uint_eq(hooks.frees, 0);
	ck_assert(!frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
	sim_frame_put(hm, pfn);
	ck_assert(!sim_frame_allocated(hm, pfn));
	ck_assert_uint_eq(hooks.frees, 1);
	ck_assert_uint_eq(hooks.freed, pfn);
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

START_TEST(allocation_fails_when_the_arena_is_exhausted)
{
	g_autoptr(SimHostMem) hm = hostmem_new(3, 4, NULL);

	for (guint i = 0; i < 3; i++)
		ck_assert_uint_ne(sim_frame_alloc(hm), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
}
END_TEST

START_TEST(quarantine_gives_way_when_the_arena_is_exhausted)
{
	g_autoptr(SimHostMem) hm = hostmem_new(2, 8, NULL);
	SimPfn first = sim_frame_alloc(hm);

	ck_assert_uint_ne(sim_frame_alloc(hm), SIM_PFN_NONE);
	sim_frame_free(hm, first);
	ck_assert_uint_eq(sim_frame_alloc(hm), first);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
}
END_TEST

/* A fixed script of allocations and frees; the pfns handed out, as text. */
static gchar *
allocation_script(void)
{
	g_autoptr(SimHostMem) hm = hostmem_new(16, 2, NULL);
	GString *out = g_string_new(NULL);
	SimPfn p[8];

	for (guint i = 0; i < 4; i++)
		p[i] = sim_frame_alloc(hm);
	sim_frame_free(hm, p[1]);
	sim_frame_free(hm, p[0]);
	sim_frame_free(hm, p[2]); /* quarantine holds 2: p[1] leaves it first */
	for (guint i = 4; i < 8; i++)
		p[i] = sim_frame_alloc(hm);
	for (guint i = 0; i < 8; i++)
		g_string_append_printf(out, "%s0x%" G_GINT64_MODIFIER "x", i ? " " : "", p[i]);
	return g_string_free(out, FALSE);
}

START_TEST(allocation_order_is_deterministic_and_reuses_frames_fifo)
{
	g_autofree gchar *first = allocation_script();
	g_autofree gchar *second = allocation_script();

	ck_assert_str_eq(first, second);
	/* four fresh frames; p[1], pushed out of the quarantine by the third free, comes back
	 * first; then fresh frames again, while p[0] and p[2] wait in the quarantine */
	ck_assert_str_eq(first, "0x80000 0x80001 0x80002 0x80003 0x80001 0x80004 0x80005 0x80006");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Host mm
 */

#define MM_PAGES 4

typedef struct {
	gboolean start;
	guint64 range_start, range_end;
	SimPfn mapped;          /* sim_mm_lookup() of the watched hva */
	gboolean watched_alive; /* the watched frame is still allocated */
} NotifierCall;

/* A secondary MMU that only records what it is told and what it sees when told. */
typedef struct {
	SimMm *mm;
	SimHostMem *hm;
	guint64 watch_hva;
	SimPfn watch_pfn;
	NotifierCall calls[8];
	guint n_calls;
	guint clear_young_calls;
} FakeMmu;

static void
fake_record(FakeMmu *f, gboolean start, guint64 range_start, guint64 range_end)
{
	ck_assert_uint_lt(f->n_calls, G_N_ELEMENTS(f->calls));
	f->calls[f->n_calls++] = (NotifierCall){
		start, range_start, range_end, sim_mm_lookup(f->mm, f->watch_hva),
		f->watch_pfn != SIM_PFN_NONE && sim_frame_allocated(f->hm, f->watch_pfn),
	};
}

static void
fake_range_start(gpointer data, guint64 start, guint64 end)
{
	fake_record(data, TRUE, start, end);
}

static void
fake_range_end(gpointer data, guint64 start, guint64 end)
{
	fake_record(data, FALSE, start, end);
}

static gboolean
fake_clear_young(gpointer data, guint64 start, guint64 end)
{
	((FakeMmu *)data)->clear_young_calls++;
	return FALSE;
}

static gboolean
fake_test_young(gpointer data, guint64 hva)
{
	return FALSE;
}

static const SimMmuNotifierOps fake_ops = {
	.invalidate_range_start = fake_range_start,
	.invalidate_range_end = fake_range_end,
	.clear_young = fake_clear_young,
	.test_young = fake_test_young,
};

typedef struct {
	SimCounters counters;
	SimSched *sched;
	SimHostMem *hm;
	SimMm *mm;
	guint64 hva; /* MM_PAGES pages, anonymous */
	FakeMmu fake;
} MmEnv;

static MmEnv *
mm_env_new(void)
{
	g_autoptr(GError) error = NULL;
	MmEnv *env = g_new0(MmEnv, 1);

	env->sched = sim_sched_new(1);
	env->hm = sim_hostmem_new(64, 4, &env->counters, &error);
	ck_assert_msg(env->hm != NULL, "%s", error ? error->message : "");
	env->mm = sim_mm_new(env->sched, env->hm, &env->counters);
	ck_assert(sim_mm_mmap_anon(env->mm, MM_PAGES * SIM_PAGE_SIZE, &env->hva, &error));
	env->fake = (FakeMmu){ .mm = env->mm, .hm = env->hm, .watch_pfn = SIM_PFN_NONE };
	sim_mm_register_notifier(env->mm, &fake_ops, &env->fake);
	return env;
}

static void
mm_env_free(MmEnv *env)
{
	sim_mm_free(env->mm);
	sim_hostmem_free(env->hm);
	sim_sched_free(env->sched);
	g_free(env);
}

/* GUP the page at hva for write and drop the pin; the pfn. */
static SimPfn
touch(MmEnv *env, guint64 hva)
{
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, hva, TRUE, &pfn, &writable), 0);
	sim_frame_put(env->hm, pfn);
	return pfn;
}

static void
watch(MmEnv *env, guint64 hva)
{
	env->fake.watch_hva = hva;
	env->fake.watch_pfn = sim_mm_lookup(env->mm, hva);
}

START_TEST(gup_outside_every_mapping_is_efault)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, 0x1000, FALSE, &pfn, &writable), -EFAULT);
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva + MM_PAGES * SIM_PAGE_SIZE, TRUE, &pfn,
					   &writable),
			 -EFAULT);
	mm_env_free(env);
}
END_TEST

START_TEST(gup_faults_in_a_zeroed_frame_and_returns_it_pinned)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable = FALSE;

	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_PFN_NONE);
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva + 8, TRUE, &pfn, &writable), 0);
	ck_assert(writable);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), pfn);
	ck_assert_uint_eq(sim_frame_refs(env->hm, pfn), 1);
	ck_assert(frame_is_filled_with(env->hm, pfn, 0));
	sim_frame_put(env->hm, pfn);
	ck_assert_uint_eq(touch(env, env->hva), pfn); /* the second GUP finds the same frame */
	mm_env_free(env);
}
END_TEST

START_TEST(migration_preserves_the_content_and_changes_the_pfn)
{
	MmEnv *env = mm_env_new();
	guint64 hva = env->hva + SIM_PAGE_SIZE;
	SimPfn old_pfn = touch(env, hva);
	guint8 buf[8];

	sim_frame_write(env->hm, old_pfn, 40, "payload", 8);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, hva), 0);
	SimPfn new_pfn = sim_mm_lookup(env->mm, hva);

	ck_assert_uint_ne(new_pfn, SIM_PFN_NONE);
	ck_assert_uint_ne(new_pfn, old_pfn);
	ck_assert(!sim_frame_allocated(env->hm, old_pfn));
	sim_frame_read(env->hm, new_pfn, 40, buf, 8);
	ck_assert_str_eq((const char *)buf, "payload");
	ck_assert_uint_eq(touch(env, hva), new_pfn);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_MIGRATE], 1);
	mm_env_free(env);
}
END_TEST

START_TEST(migration_of_a_resident_frame_copies_what_the_guest_wrote)
{
	MmEnv *env = mm_env_new();
	SimPfn old_pfn = touch(env, env->hva);
	guint8 buf[6];

	/* the content lives in the GPA page, not in the frame's storage */
	ck_assert(sim_hostmem_add_window(env->hm, WINDOW_GPA, WINDOW_SIZE, NULL));
	sim_hostmem_make_resident(env->hm, WINDOW_GPA, old_pfn);
	memcpy(sim_hostmem_gpa_ptr(env->hm, WINDOW_GPA), "guest", 6);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva), 0);
	sim_frame_read(env->hm, sim_mm_lookup(env->mm, env->hva), 0, buf, 6);
	ck_assert_str_eq((const char *)buf, "guest");
	mm_env_free(env);
}
END_TEST

START_TEST(dontneed_makes_the_next_gup_return_a_new_zeroed_frame)
{
	MmEnv *env = mm_env_new();
	SimPfn old_pfn = touch(env, env->hva);

	sim_frame_write(env->hm, old_pfn, 0, "gone", 4);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_PFN_NONE);
	ck_assert(!sim_frame_allocated(env->hm, old_pfn));
	SimPfn new_pfn = touch(env, env->hva);

	ck_assert_uint_ne(new_pfn, old_pfn);
	ck_assert(frame_is_filled_with(env->hm, new_pfn, 0));
	mm_env_free(env);
}
END_TEST

START_TEST(munmap_makes_gup_fail_with_efault)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = touch(env, env->hva);
	gboolean writable;

	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert(!sim_mm_mapped(env->mm, env->hva));
	ck_assert(!sim_frame_allocated(env->hm, pfn));
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva, FALSE, &pfn, &writable), -EFAULT);
	/* the rest of the mapping stays */
	ck_assert(sim_mm_mapped(env->mm, env->hva + SIM_PAGE_SIZE));
	touch(env, env->hva + SIM_PAGE_SIZE);
	mm_env_free(env);
}
END_TEST

START_TEST(age_clears_young_and_reports_it_once)
{
	MmEnv *env = mm_env_new();
	guint young = 99;

	touch(env, env->hva);
	touch(env, env->hva + 2 * SIM_PAGE_SIZE);
	ck_assert(sim_mm_test_young(env->mm, env->hva));
	ck_assert_int_eq(sim_mm_age(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 2);
	ck_assert_uint_eq(env->fake.clear_young_calls, 1);
	ck_assert(!sim_mm_test_young(env->mm, env->hva));
	ck_assert_int_eq(sim_mm_age(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 0);
	touch(env, env->hva); /* an access makes it young again */
	ck_assert(sim_mm_test_young(env->mm, env->hva));
	mm_env_free(env);
}
END_TEST

static void
assert_call(const NotifierCall *call, gboolean start, guint64 range_start, guint64 range_end)
{
	ck_assert_msg(call->start == start, "expected %s", start ? "start" : "end");
	ck_assert_uint_eq(call->range_start, range_start);
	ck_assert_uint_eq(call->range_end, range_end);
}

START_TEST(dontneed_notifies_start_while_mapped_and_end_when_cleared_then_frees)
{
	MmEnv *env = mm_env_new();
	guint64 hva = env->hva + SIM_PAGE_SIZE;

	touch(env, hva);
	watch(env, hva);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, hva, 2 * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, hva, hva + 2 * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, hva, hva + 2 * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[1].mapped, SIM_PFN_NONE);
	ck_assert(env->fake.calls[1].watched_alive); /* freed only after the end */
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	mm_env_free(env);
}
END_TEST

START_TEST(munmap_notifies_start_while_mapped_and_end_when_cleared_then_frees)
{
	MmEnv *env = mm_env_new();

	touch(env, env->hva);
	watch(env, env->hva);
	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, env->hva, env->hva + MM_PAGES * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, env->hva, env->hva + MM_PAGES * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[1].mapped, SIM_PFN_NONE);
	ck_assert(env->fake.calls[1].watched_alive);
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	mm_env_free(env);
}
END_TEST

START_TEST(migration_notifies_the_aligned_page_while_mapped_and_frees_the_old_frame_after_end)
{
	MmEnv *env = mm_env_new();
	guint64 page = env->hva + 2 * SIM_PAGE_SIZE;

	touch(env, page);
	watch(env, page);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, page + 0x123), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, page, page + SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, page, page + SIM_PAGE_SIZE);
	ck_assert(env->fake.calls[1].watched_alive);
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	ck_assert_uint_ne(sim_mm_lookup(env->mm, page), env->fake.watch_pfn);
	mm_env_free(env);
}
END_TEST

START_TEST(operations_on_nothing_mapped_fire_no_notifier)
{
	MmEnv *env = mm_env_new();

	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva), -ENOENT); /* never touched */
	ck_assert_int_eq(sim_mm_dontneed(env->mm, 0x1000, SIM_PAGE_SIZE), -ENOENT);
	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva + 1, SIM_PAGE_SIZE), -ENOENT); /* unaligned */
	ck_assert_uint_eq(env->fake.n_calls, 0);
	mm_env_free(env);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Host-event specs
 */

START_TEST(host_event_spec_gives_each_kind_its_count)
{
	SimHostEventCounts counts;
	g_autoptr(GError) error = NULL;

	ck_assert(sim_host_events_parse("age=3,migrate=500,dontneed=10", &counts, &error));
	ck_assert_uint_eq(counts.count[SIM_HOST_MIGRATE], 500);
	ck_assert_uint_eq(counts.count[SIM_HOST_DONTNEED], 10);
	ck_assert_uint_eq(counts.count[SIM_HOST_AGE], 3);
	ck_assert_uint_eq(sim_host_events_total(&counts), 513);
	ck_assert_str_eq(sim_host_event_name(SIM_HOST_DONTNEED), "dontneed");
}
END_TEST

START_TEST(host_event_spec_leaves_unnamed_kinds_at_zero)
{
	SimHostEventCounts counts;

	memset(&counts, 0xff, sizeof(counts));
	ck_assert(sim_host_events_parse("dontneed=1000000", &counts, NULL));
	ck_assert_uint_eq(counts.count[SIM_HOST_MIGRATE], 0);
	ck_assert_uint_eq(counts.count[SIM_HOST_DONTNEED], 1000000);
	ck_assert_uint_eq(counts.count[SIM_HOST_AGE], 0);
	ck_assert_uint_eq(sim_host_events_total(&counts), 1000000);
}
END_TEST

/* The spec is rejected with exactly this message. */
static void
assert_spec_rejected(const char *spec, const char *message)
{
	SimHostEventCounts counts;
	g_autoptr(GError) error = NULL;

	ck_assert_msg(!sim_host_events_parse(spec, &counts, &error), "'%s' was accepted", spec);
	ck_assert(g_error_matches(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE));
	ck_assert_str_eq(error->message, message);
}

START_TEST(host_event_spec_with_an_unknown_kind_is_rejected)
{
	assert_spec_rejected("migrate=1,foo=2",
			     "--host-events: unknown kind 'foo' (known: migrate, dontneed, age)");
}
END_TEST

START_TEST(host_event_spec_with_a_prefix_of_a_kind_is_rejected)
{
	assert_spec_rejected("migr=1",
			     "--host-events: unknown kind 'migr' (known: migrate, dontneed, age)");
	assert_spec_rejected("ages=1",
			     "--host-events: unknown kind 'ages' (known: migrate, dontneed, age)");
}
END_TEST

START_TEST(host_event_spec_without_equals_is_rejected)
{
	assert_spec_rejected("migrate", "--host-events: 'migrate' is not KIND=COUNT");
	assert_spec_rejected("=5", "--host-events: '=5' is not KIND=COUNT");
}
END_TEST

START_TEST(host_event_spec_with_a_count_that_is_not_a_number_is_rejected)
{
	assert_spec_rejected("migrate=x",
			     "--host-events: count 'x' of migrate is not a number from 0 to 1000000");
	assert_spec_rejected("age=",
			     "--host-events: count '' of age is not a number from 0 to 1000000");
	assert_spec_rejected("age=-1",
			     "--host-events: count '-1' of age is not a number from 0 to 1000000");
}
END_TEST

START_TEST(host_event_spec_with_a_count_above_the_limit_is_rejected)
{
	assert_spec_rejected(
		"dontneed=1000001",
		"--host-events: count '1000001' of dontneed is not a number from 0 to 1000000");
}
END_TEST

START_TEST(host_event_spec_naming_a_kind_twice_is_rejected)
{
	assert_spec_rejected("migrate=1,age=2,migrate=3", "--host-events: migrate is given twice");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Output files and the log file sink
 */

/* The names in dir, sorted, space separated. */
static gchar *
dir_listing(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (gchar **)names->pdata);
}

static gchar *
make_temp_dir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("kvmsim-test-core-XXXXXX", &error);

	ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
	return dir;
}

/* Remove dir and the plain files in it. */
static void
remove_temp_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

START_TEST(outfile_appears_only_at_commit_under_its_final_name)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *content = NULL;
	SimOutFile out = { 0 };

	ck_assert(sim_outfile_open(&out, path, &error));
	fputs("hello\n", out.fp);
	ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
	ck_assert(sim_outfile_commit(&out, &error));
	ck_assert(g_file_get_contents(path, &content, NULL, NULL));
	ck_assert_str_eq(content, "hello\n");
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "out.txt"); /* no temporary left beside it */
	remove_temp_dir(dir);
}
END_TEST

START_TEST(outfile_abort_leaves_neither_file_nor_temporary)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	SimOutFile out = { 0 };
	SimOutFile never_opened = { 0 };

	ck_assert(sim_outfile_open(&out, path, &error));
	fputs("half written", out.fp);
	{
		g_autofree gchar *listing = dir_listing(dir);

		ck_assert_str_ne(listing, ""); /* the temporary exists while writing */
	}
	sim_outfile_abort(&out);
	sim_outfile_abort(&never_opened);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

START_TEST(outfile_in_a_missing_directory_fails_naming_the_path)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "missing", "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	SimOutFile out = { 0 };

	ck_assert(!sim_outfile_open(&out, path, &error));
	ck_assert(g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
	ck_assert(g_str_has_prefix(error->message, path));
	ck_assert_ptr_null(out.fp);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

START_TEST(log_file_holds_exactly_the_captured_lines_and_their_digest)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "run.log", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *content = NULL;
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(3, &log);
	Script script = { sched, three_points };

	ck_assert(sim_log_open_file(log, path, &error));
	sim_log_hash(log);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	run_or_abort(sched);
	ck_assert(sim_log_finish(log, &error));
	ck_assert(g_file_get_contents(path, &content, NULL, NULL));
	ck_assert_str_eq(content, sim_log_text(log));
	g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);
	g_autofree gchar *expected = g_strconcat("sha256:", sha, NULL);
	g_autofree gchar *digest = sim_log_digest(log);

	ck_assert_str_eq(digest, expected);
	guint newlines = 0;

	for (const char *c = content; *c; c++)
		newlines += *c == '\n';
	ck_assert_uint_gt(newlines, 6);
	ck_assert_uint_eq(sim_log_lines(log), newlines);
	sim_log_free(log);
	remove_temp_dir(dir);
}
END_TEST

START_TEST(log_freed_without_finish_leaves_no_file)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "run.log", NULL);
	g_autoptr(GError) error = NULL;
	SimLog *log = sim_log_new(NULL);

	ck_assert(sim_log_open_file(log, path, &error));
	sim_log_emitf(log, "test_ev", "%s", "lost");
	sim_log_free(log);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Counters and the page-table pool
 */

START_TEST(every_counter_name_looks_up_to_its_counter)
{
	for (guint i = 0; i < SIM_CTR_COUNT; i++) {
		SimCounter id;

		ck_assert_msg(sim_counter_lookup(sim_counter_name(i), &id), "%s", sim_counter_name(i));
		ck_assert_uint_eq(id, i);
	}
	SimCounter id;

	ck_assert(!sim_counter_lookup("host.migrat", &id));
	ck_assert_str_eq(sim_counter_name(SIM_CTR_HOST_MIGRATE), "host.migrate");
}
END_TEST

START_TEST(ptpool_hands_out_fixed_addresses_and_reuses_released_pages_fifo)
{
	g_autoptr(SimPtPool) pool = sim_ptpool_new(3, NULL);
	guint64 pa[5];
	guint64 *va[5];

	for (guint i = 0; i < 3; i++) {
		va[i] = sim_ptpool_alloc(pool, &pa[i]);
		ck_assert_ptr_nonnull(va[i]);
		ck_assert_uint_eq(pa[i], SIM_PT_BASE + i * SIM_PAGE_SIZE);
		ck_assert_ptr_eq(sim_ptpool_va(pool, pa[i]), va[i]);
		ck_assert_uint_eq(sim_ptpool_pa(pool, va[i] + 7), pa[i]);
	}
	ck_assert_ptr_null(sim_ptpool_alloc(pool, &pa[3]));
	ck_assert_uint_eq(sim_ptpool_in_use(pool), 3);
	sim_ptpool_set_owner(pool, pa[2], pool);
	sim_ptpool_release(pool, pa[2]);
	sim_ptpool_release(pool, pa[0]);
	ck_assert_ptr_null(sim_ptpool_owner(pool, pa[2]));
	ck_assert_ptr_nonnull(sim_ptpool_alloc(pool, &pa[3]));
	ck_assert_ptr_nonnull(sim_ptpool_alloc(pool, &pa[4]));
	ck_assert_uint_eq(pa[3], pa[2]);
	ck_assert_uint_eq(pa[4], pa[0]);
	ck_assert_ptr_null(sim_ptpool_va(pool, SIM_PT_BASE + 3 * SIM_PAGE_SIZE));
}
END_TEST

static Suite *
core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("sched");

	tcase_add_test(tc, same_seed_gives_a_byte_identical_log);
	tcase_add_test(tc, different_seed_gives_a_different_interleaving);
	tcase_add_test(tc, round_robin_runs_actors_in_creation_order_at_each_yield);
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
	tcase_add_test(tc, failure_stops_the_run_at_the_next_yield_point);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_add_test(tc, readers_share_the_rwlock);
	tcase_add_test(tc, writer_keeps_a_reader_out_until_it_releases);
	tcase_add_test(tc, writer_keeps_another_writer_out_until_it_releases);
	tcase_add_test(tc, writer_waits_for_the_reader_inside);
	tcase_add_test(tc, synchronize_srcu_waits_for_a_reader_that_entered_before_it);
	tcase_add_test(tc, synchronize_srcu_does_not_wait_for_a_reader_that_entered_after_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostmem");
	tcase_add_test(tc, new_frame_reads_zeros);
	tcase_add_test(tc, reused_frame_reads_zeros_not_its_old_content);
	tcase_add_test(tc, freed_frame_is_poisoned_in_its_storage);
	tcase_add_test(tc, freed_frame_poisons_the_gpa_page_that_holds_it_and_clears_the_holder);
	tcase_add_test(tc, write_after_free_is_reported_once_the_frame_leaves_quarantine);
	tcase_add_test(tc, untouched_frame_comes_out_of_quarantine_unreported);
	tcase_add_test(tc, making_a_frame_resident_writes_the_previous_one_back_and_loads_the_new_one);
	tcase_add_test(tc, frame_pinned_by_get_is_freed_only_at_the_last_put);
	tcase_add_test(tc, allocation_fails_when_the_arena_is_exhausted);
	tcase_add_test(tc, quarantine_gives_way_when_the_arena_is_exhausted);
	tcase_add_test(tc, allocation_order_is_deterministic_and_reuses_frames_fifo);
	suite_add_tcase(s, tc);

	tc = tcase_create("mm");
	tcase_add_test(tc, gup_outside_every_mapping_is_efault);
	tcase_add_test(tc, gup_faults_in_a_zeroed_frame_and_returns_it_pinned);
	tcase_add_test(tc, migration_preserves_the_content_and_changes_the_pfn);
	tcase_add_test(tc, migration_of_a_resident_frame_copies_what_the_guest_wrote);
	tcase_add_test(tc, dontneed_makes_the_next_gup_return_a_new_zeroed_frame);
	tcase_add_test(tc, munmap_makes_gup_fail_with_efault);
	tcase_add_test(tc, age_clears_young_and_reports_it_once);
	tcase_add_test(tc, dontneed_notifies_start_while_mapped_and_end_when_cleared_then_frees);
	tcase_add_test(tc, munmap_notifies_start_while_mapped_and_end_when_cleared_then_frees);
	tcase_add_test(tc,
		       migration_notifies_the_aligned_page_while_mapped_and_frees_the_old_frame_after_end);
	tcase_add_test(tc, operations_on_nothing_mapped_fire_no_notifier);
	suite_add_tcase(s, tc);

	tc = tcase_create("host-events");
	tcase_add_test(tc, host_event_spec_gives_each_kind_its_count);
	tcase_add_test(tc, host_event_spec_leaves_unnamed_kinds_at_zero);
	tcase_add_test(tc, host_event_spec_with_an_unknown_kind_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_prefix_of_a_kind_is_rejected);
	tcase_add_test(tc, host_event_spec_without_equals_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_count_that_is_not_a_number_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_count_above_the_limit_is_rejected);
	tcase_add_test(tc, host_event_spec_naming_a_kind_twice_is_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, outfile_appears_only_at_commit_under_its_final_name);
	tcase_add_test(tc, outfile_abort_leaves_neither_file_nor_temporary);
	tcase_add_test(tc, outfile_in_a_missing_directory_fails_naming_the_path);
	tcase_add_test(tc, log_file_holds_exactly_the_captured_lines_and_their_digest);
	tcase_add_test(tc, log_freed_without_finish_leaves_no_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, every_counter_name_looks_up_to_its_counter);
	tcase_add_test(tc, ptpool_hands_out_fixed_addresses_and_reuses_released_pages_fifo);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(core_suite());

	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed ? 1 : 0;
}
