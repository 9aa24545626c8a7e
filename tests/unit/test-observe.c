/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core observers (observe.h): what a report sees of a run, and that watching changes
 * nothing - not the schedule, not a byte of the log. */
#include "tests/unit/core-support.h"

#include "sim/core/observe.h"

/* Everything the observer was told, one word each: "y:ACTOR@POINT", "l:ACTOR:OP:MODE",
 * "e:ACTOR:EVENT:BODY", with the clock. */
typedef struct {
	GString *seen;
} Seen;

static void
seen_yield(gpointer data, guint64 step, const char *actor, const char *point)
{
	g_string_append_printf(((Seen *)data)->seen, "%" G_GUINT64_FORMAT " y:%s@%s\n", step,
			       actor, point);
}

static void
seen_lock(gpointer data, guint64 step, const char *actor, const char *lock, gboolean write,
	  SimLockOp op)
{
	static const char *const ops[] = { "attempt", "acquired", "released" };

	g_string_append_printf(((Seen *)data)->seen, "%" G_GUINT64_FORMAT " l:%s:%s:%s:%s\n", step,
			       actor, lock, ops[op], write ? "write" : "read");
}

static void
seen_event(gpointer data, guint64 step, const char *actor, const char *event, const char *body,
	   gsize len)
{
	g_string_append_printf(((Seen *)data)->seen, "%" G_GUINT64_FORMAT " e:%s:%s:%.*s\n", step,
			       actor, event, (int)len, body);
}

static const SimObserver all_hooks = { seen_yield, seen_lock, seen_event };

/* Takes the lock for write (w) or read (r), logs inside, releases it. */
typedef struct {
	SimSched *sched;
	SimRwlock *lock;
} LockUser;

static void
lock_actor(SimActor *actor, gpointer data)
{
	LockUser *u = data;
	const char *name = sim_sched_current_name(u->sched);

	if (name[0] == 'w')
		sim_write_lock(u->sched, u->lock, "u.lock");
	else
		sim_read_lock(u->sched, u->lock, "u.lock");
	emit(u->sched, "in");
	sim_yield(u->sched, "u.in");
	if (name[0] == 'w')
		sim_write_unlock(u->sched, u->lock, "u.unlock");
	else
		sim_read_unlock(u->sched, u->lock, "u.unlock");
}

/* A writer and a reader under a random policy, or (ordered) the writer inside first and the
 * reader blocked on it; observed or not: the captured log. */
static gchar *
run_users(guint64 seed, gboolean ordered, Seen *seen)
{
	static const SimStep steps[] = { { "w", "u.in", 1 }, { "r", SIM_POINT_BLOCK, 1 },
					 { "w", SIM_POINT_EXIT, 1 }, { "r", SIM_POINT_EXIT, 1 } };
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(seed, &log);
	SimRwlock lock = { .name = "mmu_lock" };
	LockUser u = { sched, &lock };

	if (seen) {
		sim_sched_set_observer(sched, &all_hooks, seen);
		sim_log_observe(log);
	}
	sim_actor_new(sched, "w", lock_actor, &u);
	sim_actor_new(sched, "r", lock_actor, &u);
	if (ordered)
		sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	run_or_abort(sched);
	gchar *text = g_strdup(sim_log_text(log));

	sim_log_free(log);
	return text;
}

START_TEST(the_observer_sees_yields_lock_operations_and_lines_in_order)
{
	Seen seen = { g_string_new(NULL) };
	g_autofree gchar *log = run_users(1, TRUE, &seen);
	g_autofree gchar *got = g_string_free(seen.seen, FALSE);
	const char *w_attempt = strstr(got, "l:w:mmu_lock:attempt:write");
	const char *w_in = strstr(got, "e:w:test_ev:w@in");
	const char *w_released = strstr(got, "l:w:mmu_lock:released:write");
	const char *r_acquired = strstr(got, "l:r:mmu_lock:acquired:read");

	ck_assert_msg(w_attempt && w_in && w_released && r_acquired, "saw:\n%s", got);
	ck_assert_ptr_nonnull(strstr(got, " y:w@u.lock\n"));
	ck_assert_ptr_nonnull(strstr(got, " y:r@u.in\n"));
	ck_assert_ptr_nonnull(strstr(got, "l:w:mmu_lock:acquired:write"));
	/* the writer gets in, logs, leaves; the reader gets in only after it left */
	ck_assert(w_attempt < w_in && w_in < w_released && w_released < r_acquired);
	/* the reader blocked: its attempt comes before the writer left */
	ck_assert(strstr(got, "l:r:mmu_lock:attempt:read") < w_released);
	/* every log line reached the observer, with its body */
	ck_assert_ptr_nonnull(strstr(got, "e:r:test_ev:r@in"));
}
END_TEST

START_TEST(watching_changes_neither_the_schedule_nor_the_log)
{
	for (guint64 seed = 1; seed <= 20; seed++) {
		Seen seen = { g_string_new(NULL) };
		g_autofree gchar *plain = run_users(seed, FALSE, NULL);
		g_autofree gchar *watched = run_users(seed, FALSE, &seen);

		ck_assert_str_eq(plain, watched);
		g_string_free(seen.seen, TRUE);
	}
}
END_TEST

START_TEST(an_observed_log_formats_lines_with_no_other_sink)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	g_autoptr(SimLog) log = sim_log_new(sched);
	Seen seen = { g_string_new(NULL) };
	g_autofree gchar *got = NULL;

	ck_assert(!sim_log_on(log));
	sim_sched_set_observer(sched, &all_hooks, &seen);
	sim_log_observe(log);
	ck_assert(sim_log_on(log));
	sim_log_emit(log, "sim_test", "seq %lu in_progress %ld", 7ul, 1l);
	/* no capture, no file, no hash: nothing kept, but the observer had the line */
	ck_assert_str_eq(sim_log_text(log), "");
	got = g_string_free(seen.seen, FALSE);
	ck_assert_str_eq(got, "0 e:main:sim_test:seq 7 in_progress 1\n");
	sim_sched_set_observer(sched, NULL, NULL);
}
END_TEST

static Suite *
observe_suite(void)
{
	Suite *s = suite_create("observe");
	TCase *tc = tcase_create("observe");

	tcase_add_test(tc, the_observer_sees_yields_lock_operations_and_lines_in_order);
	tcase_add_test(tc, watching_changes_neither_the_schedule_nor_the_log);
	tcase_add_test(tc, an_observed_log_formats_lines_with_no_other_sink);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(observe_suite());
}
