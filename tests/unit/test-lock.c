/* SPDX-License-Identifier: GPL-2.0-only */
/* mmu_lock as x86's queued rwlock: who gets in, in which order, whatever the policy; lock
 * waiters parked until their lock changes. */
#include "tests/unit/core-support.h"

#include <signal.h>

/* Takes an rwlock for read or write, yields inside, releases it; says when it got in and out. */
typedef struct {
	SimSched *sched;
	SimRwlock *lock;
	gboolean write;
	const char *points[3]; /* lock, inside, unlock */
} RwUser;

static void
rw_actor(SimActor *actor, gpointer data)
{
	RwUser *u = data;

	if (u->write)
		sim_write_lock(u->sched, u->lock, u->points[0]);
	else
		sim_read_lock(u->sched, u->lock, u->points[0]);
	emit(u->sched, "in");
	sim_yield(u->sched, u->points[1]);
	emit(u->sched, "out");
	if (u->write)
		sim_write_unlock(u->sched, u->lock, u->points[2]);
	else
		sim_read_unlock(u->sched, u->lock, u->points[2]);
}

/* The yield point name.suffix, as a static string. */
static const char *
user_point(const char *name, const char *suffix)
{
	g_autofree gchar *point = g_strconcat(name, suffix, NULL);

	return g_intern_string(point);
}

/* A user named name ("r1", "w"...): a writer iff the name starts with w; points name.lock,
 * name.in, name.unlock. */
static RwUser
rw_user(SimRwlock *lock, const char *name)
{
	RwUser u = { NULL, lock, name[0] == 'w', { NULL, NULL, NULL } };

	u.points[0] = user_point(name, ".lock");
	u.points[1] = user_point(name, ".in");
	u.points[2] = user_point(name, ".unlock");
	return u;
}

/* Run rwlock users (created in the order given) with steps, then policy; the events, or NULL
 * and the error. */
static gchar *
run_rw_users(RwUser *users, const char *const *names, guint n, const SimStep *steps,
	     guint n_steps, SimPolicy then, guint64 seed, GError **error)
{
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(seed, &log);
	gchar *events = NULL;

	for (guint i = 0; i < n; i++) {
		users[i].sched = sched;
		sim_actor_new(sched, names[i], rw_actor, &users[i]);
	}
	sim_sched_set_steps(sched, steps, n_steps, then);
	if (sim_sched_run(sched, error))
		events = log_events(sim_log_text(log));
	sim_log_free(log);
	return events;
}

/* A schedule of rwlock users and the order in which they must get in and out. */
typedef struct {
	const char *what;
	const char *users[4];  /* in creation order; NULL-terminated if fewer */
	SimStep steps[9];      /* NULL actor ends the list */
	const char *events;    /* what the users must say, in order */
} RwCase;

static const RwCase rw_cases[] = {
	/* r2 would block (a schedule error) if r1 kept it out */
	{ "readers share the lock", { "r1", "r2" },
	  { { "r1", "r1.in", 1 }, { "r2", "r2.in", 1 } }, "r1@in r2@in r1@out r2@out" },
	/* if r got in, it would finish instead of blocking: "r finished before reaching block" */
	{ "a writer keeps a reader out until it releases", { "w", "r" },
	  { { "w", "w.in", 1 }, { "r", SIM_POINT_BLOCK, 1 }, { "w", SIM_POINT_EXIT, 1 },
	    { "r", SIM_POINT_EXIT, 1 } },
	  "w@in w@out r@in r@out" },
	{ "a writer waits for the reader inside", { "r", "w" },
	  { { "r", "r.in", 1 }, { "w", SIM_POINT_BLOCK, 1 }, { "r", SIM_POINT_EXIT, 1 },
	    { "w", SIM_POINT_EXIT, 1 } },
	  "r@in r@out w@in w@out" },
	/* r2 must block although only a reader holds the lock: w waits for it */
	{ "a reader queues behind a waiting writer", { "r1", "w", "r2" },
	  { { "r1", "r1.in", 1 }, { "w", SIM_POINT_BLOCK, 1 }, { "r2", SIM_POINT_BLOCK, 1 },
	    { "r1", SIM_POINT_EXIT, 1 }, { "w", SIM_POINT_EXIT, 1 }, { "r2", SIM_POINT_EXIT, 1 } },
	  "r1@in r1@out w@in w@out r2@in r2@out" },
	/* w2 arrives before w3; round-robin afterwards would pick w3 (created first) */
	{ "writers get the lock in arrival order", { "w1", "w3", "w2" },
	  { { "w1", "w1.in", 1 }, { "w2", SIM_POINT_BLOCK, 1 }, { "w3", SIM_POINT_BLOCK, 1 },
	    { "w1", SIM_POINT_EXIT, 1 } },
	  "w1@in w1@out w2@in w2@out w3@in w3@out" },
	/* r1 heads the queue (waiting for w1 to leave), w2 is behind it and has not announced
	 * itself; once w1 is out, a reader arriving finds neither LOCKED nor WAITING set */
	{ "a new reader passes a writer queued behind a reader", { "w1", "r1", "w2", "r2" },
	  { { "w1", "w1.in", 1 }, { "r1", SIM_POINT_BLOCK, 1 }, { "w2", SIM_POINT_BLOCK, 1 },
	    { "w1", SIM_POINT_EXIT, 1 }, { "r2", "r2.in", 1 }, { "r1", "r1.in", 1 },
	    { "r2", SIM_POINT_EXIT, 1 }, { "r1", SIM_POINT_EXIT, 1 }, { "w2", SIM_POINT_EXIT, 1 } },
	  "w1@in w1@out r2@in r1@in r2@out r1@out w2@in w2@out" },
};

START_TEST(rwlock_users_get_in_in_the_kernels_order)
{
	const RwCase *c = &rw_cases[_i];
	g_autoptr(GError) error = NULL;
	SimRwlock lock = { .name = "mmu_lock" };
	RwUser users[4];
	guint n = 0, n_steps = 0;

	while (n < G_N_ELEMENTS(c->users) && c->users[n]) {
		users[n] = rw_user(&lock, c->users[n]);
		n++;
	}
	while (n_steps < G_N_ELEMENTS(c->steps) && c->steps[n_steps].actor)
		n_steps++;
	g_autofree gchar *events = run_rw_users(users, c->users, n, c->steps, n_steps,
						SIM_POLICY_ROUND_ROBIN, 1, &error);

	ck_assert_msg(events != NULL, "%s: %s", c->what, error ? error->message : "");
	ck_assert_msg(strcmp(events, c->events) == 0, "%s: %s", c->what, events);
	ck_assert(!sim_rwlock_held(&lock));
}
END_TEST

START_TEST(no_schedule_lets_a_reader_overtake_a_waiting_writer)
{
	/* whatever the seed, once w waits, r2 gets in only after w is out */
	for (guint64 seed = 1; seed <= 64; seed++) {
		g_autoptr(GError) error = NULL;
		SimRwlock lock = { .name = "mmu_lock" };
		const char *const names[] = { "r1", "w", "r2" };
		RwUser u[] = { rw_user(&lock, "r1"), rw_user(&lock, "w"), rw_user(&lock, "r2") };
		const SimStep steps[] = { { "r1", "r1.in", 1 }, { "w", SIM_POINT_BLOCK, 1 } };
		g_autofree gchar *events = run_rw_users(u, names, 3, steps, 2, SIM_POLICY_RANDOM,
							seed, &error);

		ck_assert_msg(events != NULL, "%s", error ? error->message : "");
		ck_assert_ptr_nonnull(strstr(events, "w@out r2@in"));
	}
}
END_TEST

typedef struct {
	SimRwlock *lock;
	gboolean contended;
} ContentionProbe;

static void
contention_probe_actor(SimActor *actor, gpointer data)
{
	ContentionProbe *p = data;

	p->contended = sim_rwlock_is_contended(p->lock);
}

START_TEST(a_queued_waiter_makes_the_lock_contended)
{
	SimRwlock lock = { .name = "mmu_lock" };
	RwUser u[] = { rw_user(&lock, "r"), rw_user(&lock, "w") };
	ContentionProbe before = { &lock, TRUE }, during = { &lock, FALSE }, after = { &lock, TRUE };
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);
	const SimStep steps[] = { { "before", SIM_POINT_EXIT, 1 }, { "r", "r.in", 1 },
				  { "w", SIM_POINT_BLOCK, 1 },	   { "during", SIM_POINT_EXIT, 1 },
				  { "r", SIM_POINT_EXIT, 1 },	   { "w", SIM_POINT_EXIT, 1 },
				  { "after", SIM_POINT_EXIT, 1 } };

	sim_actor_new(sched, "before", contention_probe_actor, &before);
	for (guint i = 0; i < 2; i++) {
		u[i].sched = sched;
		sim_actor_new(sched, i ? "w" : "r", rw_actor, &u[i]);
	}
	sim_actor_new(sched, "during", contention_probe_actor, &during);
	sim_actor_new(sched, "after", contention_probe_actor, &after);
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	run_or_abort(sched);
	ck_assert(!before.contended);
	ck_assert(during.contended);
	ck_assert(!after.contended);
	sim_log_free(log);
}
END_TEST

/* The sim_lock_wait lines of a run's log (their bodies, one per line). */
static gchar *
lock_wait_lines(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (guint i = 0; lines[i]; i++) {
		const char *body = strstr(lines[i], "sim_lock_wait: ");

		if (body)
			g_string_append_printf(out, "%s\n", body + strlen("sim_lock_wait: "));
	}
	return g_string_free(out, FALSE);
}

START_TEST(a_block_logs_the_holder_and_the_waiters_in_order)
{
	/* w1 holds it; r1 heads the queue and has counted itself in (not a holder); w2 queues,
	 * then waits for r1, inside, to leave */
	SimRwlock lock = { .name = "mmu_lock" };
	const char *const names[] = { "w1", "r1", "w2" };
	RwUser u[] = { rw_user(&lock, "w1"), rw_user(&lock, "r1"), rw_user(&lock, "w2") };
	const SimStep steps[] = { { "w1", "w1.in", 1 }, { "r1", SIM_POINT_BLOCK, 1 },
				  { "w2", SIM_POINT_BLOCK, 1 }, { "w1", SIM_POINT_EXIT, 1 },
				  { "r1", "r1.in", 1 },		{ "w2", SIM_POINT_BLOCK, 1 },
				  { "r1", SIM_POINT_EXIT, 1 },	{ "w2", SIM_POINT_EXIT, 1 } };
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(1, &log);

	for (guint i = 0; i < 3; i++) {
		u[i].sched = sched;
		sim_actor_new(sched, names[i], rw_actor, &u[i]);
	}
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	run_or_abort(sched);
	g_autofree gchar *waits = lock_wait_lines(sim_log_text(log));

	ck_assert_msg(strcmp(waits,
			 "mmu_lock for read waits for the writer to leave: held by w1 (write); "
			 "waiters in order: r1 (read, waiting for the writer)\n"
			 "mmu_lock for write queues on wait_lock: held by w1 (write); waiters in "
			 "order: r1 (read, waiting for the writer), w2 (write, queued on "
			 "wait_lock)\n"
			 "mmu_lock for write waits for the readers to leave: held by r1 (read); "
			 "waiters in order: w2 (write, announced: no new reader gets in)\n") == 0,
		      "%s", g_strdelimit(g_strdup(waits), "\n", '|'));
	sim_log_free(log);
}
END_TEST

/* A user that takes a spinlock ('s') or the rwlock for read ('r') or write ('w') rounds times,
 * yielding inside and between. */
typedef struct {
	SimSched *sched;
	SimSpinlock *spin;
	SimRwlock *rw;
	char kind;
	guint rounds;
	guint inside;  /* yields inside each round */
} Looper;

/* Take (or release) the looper's lock, in its kind's mode. */
static void
looper_lock(Looper *l, gboolean take)
{
	const char *point = take ? "loop.lock" : "loop.unlock";

	if (l->kind == 's')
		(take ? sim_spin_lock : sim_spin_unlock)(l->sched, l->spin, point);
	else if (l->kind == 'r')
		(take ? sim_read_lock : sim_read_unlock)(l->sched, l->rw, point);
	else
		(take ? sim_write_lock : sim_write_unlock)(l->sched, l->rw, point);
}

static void
looper_actor(SimActor *actor, gpointer data)
{
	Looper *l = data;

	for (guint round = 0; round < l->rounds; round++) {
		looper_lock(l, TRUE);
		for (guint i = 0; i < l->inside; i++)
			sim_yield(l->sched, "loop.in");
		looper_lock(l, FALSE);
		sim_yield(l->sched, "loop.out");
	}
}

/* Three spinlock users, three readers and two writers of the rwlock, each in turn by its kind
 * in names ("s0" takes the spinlock...), under policy; the run's log, or NULL and the error. */
static gchar *
run_loopers(guint64 seed, SimPolicy policy, gboolean verify, GError **error)
{
	static const char *const names[] = { "s0", "r0", "w0", "s1", "r1", "w1", "s2", "r2" };
	SimSpinlock spin = { .name = "kvm->mmu_unsync_pages_lock" };
	SimRwlock rw = { .name = "mmu_lock" };
	Looper users[G_N_ELEMENTS(names)];
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(seed, &log);
	gchar *text = NULL;

	sim_sched_set_policy(sched, policy);
	sim_sched_set_verify_parked(sched, verify);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		users[i] = (Looper){ sched, &spin, &rw, names[i][0], 4, 1 + i % 3 };
		sim_actor_new(sched, names[i], looper_actor, &users[i]);
	}
	if (sim_sched_run(sched, error))
		text = g_strdup(sim_log_text(log));
	sim_log_free(log);
	ck_assert(!sim_rwlock_held(&rw) && !sim_spin_held(&spin));
	return text;
}

/* Every change of a lock that lets one of its waiters in wakes it: a waiter parked and never
 * woken would leave the run in a deadlock (or, checked, abort it). */
START_TEST(every_change_of_a_lock_wakes_its_parked_waiters)
{
	for (guint64 seed = 1; seed <= 40; seed++) {
		for (guint policy = SIM_POLICY_RANDOM; policy <= SIM_POLICY_ROUND_ROBIN; policy++) {
			for (gboolean verify = FALSE; verify <= TRUE; verify++) {
				g_autoptr(GError) error = NULL;
				g_autofree gchar *log = run_loopers(seed, policy, verify, &error);

				ck_assert_msg(log, "seed %" G_GUINT64_FORMAT ": %s", seed,
					      error->message);
				ck_assert_ptr_nonnull(strstr(log, "sim_lock_wait"));
			}
		}
	}
}
END_TEST

/*
 * Parking changes who is asked at a pick, never who can run: the interleaving of lock users is
 * the one of asking every blocked actor at every pick. The digests are those of the scheduler
 * before waiters parked (a31efcd), for the random and the round-robin policy.
 */
START_TEST(lock_waiters_take_the_interleaving_of_asking_each_blocked_actor)
{
	static const char *const digests[] = {
		[SIM_POLICY_RANDOM] =
			"f41e3dd7f314d9ed709cb2132be4c359dffe239e5685f93444da4f1ee5d402db",
		[SIM_POLICY_ROUND_ROBIN] =
			"dbc7a35a79501b05469ea7dbcdbedcb5922d0df57cbc2ea40a7fad9cc77a03c9",
	};

	for (guint policy = SIM_POLICY_RANDOM; policy <= SIM_POLICY_ROUND_ROBIN; policy++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *log = run_loopers(11, policy, FALSE, &error);

		ck_assert_msg(log, "%s", error ? error->message : "");
		g_autofree gchar *digest =
			g_compute_checksum_for_string(G_CHECKSUM_SHA256, log, -1);

		ck_assert_str_eq(digest, digests[policy]);
	}
}
END_TEST

/*
 * While a writer holds mmu_lock, yielding, the readers and writers that wait for it are parked:
 * each pick is the ready list's shortcut, one look, not one per waiter.
 */
START_TEST(a_held_lock_costs_a_pick_nothing_per_parked_waiter)
{
	SimRwlock rw = { .name = "mmu_lock" };
	g_autoptr(SimSched) sched = sim_sched_new(5);
	Looper holder = { sched, NULL, &rw, 'w', 1, 2000 };
	Looper waiters[12];
	const SimStep steps[] = { { "h", "loop.in", 1 } };

	sim_actor_new(sched, "h", looper_actor, &holder);
	for (guint i = 0; i < G_N_ELEMENTS(waiters); i++) {
		g_autofree gchar *name = g_strdup_printf("%c%u", i % 3 ? 'r' : 'w', i);

		waiters[i] = (Looper){ sched, NULL, &rw, name[0], 1, 1 };
		sim_actor_new(sched, name, looper_actor, &waiters[i]);
	}
	sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_RANDOM);
	run_or_abort(sched);
	/* one look per pick, and the waiters asked as they block and as the locks are released;
	 * asking every waiter at every pick looked at 26,448 actors (2,362 here) */
	ck_assert_uint_ge(sim_sched_now(sched), 2000);
	ck_assert_uint_le(sim_sched_examined(sched), sim_sched_now(sched) + 400);
}
END_TEST

/* A reader that finds the lock held for write parks, and the writer then leaves behind lock.c's
 * back (no wake); h is created first, so round-robin runs it first. */
static void
sneaky_holder_actor(SimActor *actor, gpointer data)
{
	Looper *l = data;

	sim_write_lock(l->sched, l->rw, "h.lock");
	sim_yield(l->sched, "h.in");
	l->rw->writer = NULL;
	sim_yield(l->sched, "h.out");
}

/* Holds the reader r (an interrupt handler on its CPU) for a few yields, then releases it. */
typedef struct {
	SimSched *sched;
	SimActor *r;
} Interrupter;

static void
interrupter_actor(SimActor *actor, gpointer data)
{
	Interrupter *n = data;

	sim_actor_hold(n->r);
	for (guint i = 0; i < 4; i++)
		sim_yield(n->sched, "n.tick");
	emit(n->sched, "release");
	sim_actor_release(n->r);
}

/* A reader sure to get in once the writer left does not run while it is held, and runs once
 * released, with or without the check. */
START_TEST(a_held_waiter_sure_to_get_in_waits_for_its_release)
{
	for (gboolean verify = FALSE; verify <= TRUE; verify++) {
		SimRwlock rw = { .name = "mmu_lock" };
		SimLog *log;
		g_autoptr(SimSched) sched = sched_with_log(1, &log);
		RwUser w = rw_user(&rw, "w"), r = rw_user(&rw, "r");
		Interrupter n = { sched, NULL };
		/* r blocks while w is inside; w leaves (r is then sure); n holds r */
		const SimStep steps[] = { { "w", "w.in", 1 }, { "r", SIM_POINT_BLOCK, 1 },
					  { "w", "w.unlock", 1 }, { "n", "n.tick", 1 } };

		w.sched = r.sched = sched;
		sim_sched_set_verify_parked(sched, verify);
		sim_actor_new(sched, "w", rw_actor, &w);
		n.r = sim_actor_new(sched, "r", rw_actor, &r);
		sim_actor_new(sched, "n", interrupter_actor, &n);
		sim_sched_set_steps(sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
		run_or_abort(sched);
		g_autofree gchar *events = log_events(sim_log_text(log));

		ck_assert_str_eq(events, "w@in w@out n@release r@in r@out");
		sim_log_free(log);
	}
}
END_TEST

/* The check of sim_sched_set_verify_parked() catches a lock that changed without waking its
 * parked waiters (g_error: SIGTRAP). */
START_TEST(the_check_aborts_when_a_lock_changes_without_a_wake)
{
	SimRwlock rw = { .name = "mmu_lock" };
	g_autoptr(SimSched) sched = sim_sched_new(1);
	Looper h = { sched, NULL, &rw, 'w', 1, 1 }, r = { sched, NULL, &rw, 'r', 1, 1 };

	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_sched_set_verify_parked(sched, TRUE);
	sim_actor_new(sched, "h", sneaky_holder_actor, &h);
	sim_actor_new(sched, "r", looper_actor, &r);
	run_or_abort(sched);
}
END_TEST

/* Takes a mutex (or, with spin set, a spinlock) rounds times, yielding inside; says when it got
 * in and out. */
typedef struct {
	SimSched *sched;
	SimMutex *lock;
	SimSpinlock *spin;
	guint rounds;
	const char *points[3]; /* lock, inside, unlock */
} MutexUser;

static void
mutex_actor(SimActor *actor, gpointer data)
{
	MutexUser *u = data;

	for (guint round = 0; round < u->rounds; round++) {
		if (u->spin)
			sim_spin_lock(u->sched, u->spin, u->points[0]);
		else
			sim_mutex_lock(u->sched, u->lock, u->points[0]);
		emit(u->sched, "in");
		sim_yield(u->sched, u->points[1]);
		emit(u->sched, "out");
		if (u->spin)
			sim_spin_unlock(u->sched, u->spin, u->points[2]);
		else
			sim_mutex_unlock(u->sched, u->lock, u->points[2]);
	}
}

/* Run users of one mutex (or spinlock, with spin) named names (created in that order;
 * rounds[i] rounds each) with steps, then policy; the events, or NULL and the error. */
static gchar *
run_lock_users(gboolean spin, const char *const *names, const guint *rounds, guint n,
	       const SimStep *steps, guint n_steps, SimPolicy then, guint64 seed, GError **error)
{
	SimMutex lock = { .name = "slots_lock" };
	SimSpinlock spinlock = { .name = "tdp_mmu_pages_lock" };
	MutexUser users[4];
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(seed, &log);
	gchar *events = NULL;

	g_assert(n <= G_N_ELEMENTS(users));
	sim_sched_set_verify_parked(sched, TRUE);
	for (guint i = 0; i < n; i++) {
		users[i] = (MutexUser){ sched, &lock, spin ? &spinlock : NULL, rounds[i],
			{ user_point(names[i], ".lock"), user_point(names[i], ".in"),
			  user_point(names[i], ".unlock") } };
		sim_actor_new(sched, names[i], mutex_actor, &users[i]);
	}
	sim_sched_set_steps(sched, steps, n_steps, then);
	if (sim_sched_run(sched, error)) {
		events = log_events(sim_log_text(log));
		ck_assert(!sim_mutex_held(&lock) && !sim_spin_held(&spinlock));
	}
	sim_log_free(log);
	return events;
}

/* run_lock_users() on a mutex. */
static gchar *
run_mutex_users(const char *const *names, const guint *rounds, guint n, const SimStep *steps,
		guint n_steps, SimPolicy then, guint64 seed, GError **error)
{
	return run_lock_users(FALSE, names, rounds, n, steps, n_steps, then, seed, error);
}

/*
 * __mutex_lock_common() queues waiters at the tail of wait_list and __mutex_unlock_slowpath()
 * wakes only the first: once w1 and w2 sleep on the mutex, in that order, w1 gets it before w2
 * whatever the schedule, even while h, back for a second round, may take it in between.
 */
START_TEST(mutex_waiters_get_it_in_the_order_they_queued)
{
	/* w2 is created before w1: a policy favouring creation order would pick it */
	static const char *const names[] = { "h", "w2", "w1" };
	static const guint rounds[] = { 2, 1, 1 };
	static const SimStep steps[] = { { "h", "h.in", 1 }, { "w1", SIM_POINT_BLOCK, 1 },
					 { "w2", SIM_POINT_BLOCK, 1 } };

	for (guint policy = SIM_POLICY_RANDOM; policy <= SIM_POLICY_ROUND_ROBIN; policy++) {
		for (guint64 seed = 1; seed <= 64; seed++) {
			g_autoptr(GError) error = NULL;
			g_autofree gchar *events = run_mutex_users(names, rounds, 3, steps, 3,
								   policy, seed, &error);

			ck_assert_msg(events != NULL, "%s", error ? error->message : "");
			const char *w1 = strstr(events, "w1@in"), *w2 = strstr(events, "w2@in");

			ck_assert_msg(w1 && w2 && w1 < w2, "seed %" G_GUINT64_FORMAT ": %s", seed,
				      events);
		}
	}
}
END_TEST

/*
 * The kernel lets a new arrival take a mutex just released (__mutex_trylock() in
 * __mutex_lock_common(), or its optimistic spin) before the waiter the unlock woke; that waiter,
 * first in wait_list, then finds it taken and sets MUTEX_FLAG_HANDOFF
 * (__mutex_trylock_or_handoff()), so the next __mutex_unlock_slowpath() hands the mutex to it
 * (__mutex_handoff()): n, back for its second round, must queue behind w.
 */
START_TEST(a_new_arrival_may_steal_a_released_mutex_and_the_next_unlock_hands_it_off)
{
	static const char *const names[] = { "h", "w", "n" };
	static const guint rounds[] = { 1, 1, 2 };
	/* h holds it, w sleeps on it, h leaves (waking w), n takes it before w runs; w runs,
	 * finds it taken and sleeps again; n releases it and arrives again: it must block */
	static const SimStep steps[] = { { "h", "h.in", 1 },	     { "w", SIM_POINT_BLOCK, 1 },
					 { "h", SIM_POINT_EXIT, 1 }, { "n", "n.in", 1 },
					 { "w", SIM_POINT_BLOCK, 1 }, { "n", SIM_POINT_BLOCK, 1 } };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *events = run_mutex_users(names, rounds, 3, steps, G_N_ELEMENTS(steps),
						   SIM_POLICY_ROUND_ROBIN, 1, &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "h@in h@out n@in n@out w@in w@out n@in n@out");
}
END_TEST

/* Which of the woken waiter and a new arrival gets a released mutex is the schedule's choice:
 * some seeds let n in first, some w. */
START_TEST(a_woken_waiter_and_a_new_arrival_race_for_a_released_mutex)
{
	static const char *const names[] = { "h", "w", "n" };
	static const guint rounds[] = { 1, 1, 1 };
	static const SimStep steps[] = { { "h", "h.in", 1 }, { "w", SIM_POINT_BLOCK, 1 },
					 { "h", SIM_POINT_EXIT, 1 } };
	gboolean stolen = FALSE, waiter_first = FALSE;

	for (guint64 seed = 1; seed <= 64; seed++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *events = run_mutex_users(names, rounds, 3, steps, 3,
							   SIM_POLICY_RANDOM, seed, &error);

		ck_assert_msg(events != NULL, "%s", error ? error->message : "");
		stolen |= g_str_has_prefix(events, "h@in h@out n@in");
		waiter_first |= g_str_has_prefix(events, "h@in h@out w@in");
	}
	ck_assert(stolen && waiter_first);
}
END_TEST

/* Takes an rwsem for read (a name starting with r) or write, yields inside, releases it. */
typedef struct {
	SimSched *sched;
	SimRwsem *sem;
	gboolean write;
	const char *points[3]; /* lock, inside, unlock */
} RwsemUser;

static void
rwsem_actor(SimActor *actor, gpointer data)
{
	RwsemUser *u = data;

	(u->write ? sim_down_write : sim_down_read)(u->sched, u->sem, u->points[0]);
	emit(u->sched, "in");
	sim_yield(u->sched, u->points[1]);
	emit(u->sched, "out");
	(u->write ? sim_up_write : sim_up_read)(u->sched, u->sem, u->points[2]);
}

/* Run rwsem users named names (created in that order) with steps, then policy; the events, or
 * NULL and the error. */
static gchar *
run_rwsem_users(const char *const *names, guint n, const SimStep *steps, guint n_steps,
		SimPolicy then, guint64 seed, GError **error)
{
	SimRwsem sem = { .name = "mmap_lock" };
	RwsemUser users[4];
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(seed, &log);
	gchar *events = NULL;

	g_assert(n <= G_N_ELEMENTS(users));
	for (guint i = 0; i < n; i++) {
		users[i] = (RwsemUser){ sched, &sem, names[i][0] == 'w',
			{ user_point(names[i], ".lock"), user_point(names[i], ".in"),
			  user_point(names[i], ".unlock") } };
		sim_actor_new(sched, names[i], rwsem_actor, &users[i]);
	}
	sim_sched_set_steps(sched, steps, n_steps, then);
	if (sim_sched_run(sched, error)) {
		events = log_events(sim_log_text(log));
		ck_assert(!sem.readers && !sem.writer && !sem.wait_list.length);
	}
	sim_log_free(log);
	return events;
}

/* A schedule of rwsem users and the order in which they must get in and out. */
typedef struct {
	const char *what;
	const char *users[4];
	SimStep steps[8];   /* NULL actor ends the list */
	const char *events; /* what the users must say, in order (round-robin after the steps) */
} RwsemCase;

static const RwsemCase rwsem_cases[] = {
	/* rwsem_down_read_slowpath() does not steal a reader-held rwsem: r2 must sleep behind w */
	{ "a reader sleeps behind a sleeping writer while readers hold it", { "r1", "w", "r2" },
	  { { "r1", "r1.in", 1 }, { "w", SIM_POINT_BLOCK, 1 }, { "r2", SIM_POINT_BLOCK, 1 },
	    { "r1", SIM_POINT_EXIT, 1 } },
	  "r1@in r1@out w@in w@out r2@in r2@out" },
	/* rwsem_mark_wake(): a reader first in wait_list brings in every sleeping reader, r2
	 * although w2 sleeps ahead of it */
	{ "a released rwsem goes to all sleeping readers", { "w1", "r1", "w2", "r2" },
	  { { "w1", "w1.in", 1 }, { "r1", SIM_POINT_BLOCK, 1 }, { "w2", SIM_POINT_BLOCK, 1 },
	    { "r2", SIM_POINT_BLOCK, 1 }, { "w1", SIM_POINT_EXIT, 1 }, { "r2", "r2.in", 1 },
	    { "r1", "r1.in", 1 } },
	  "w1@in w1@out r2@in r1@in r2@out r1@out w2@in w2@out" },
	/* with nobody inside, a reader steals the rwsem from the writer the release woke */
	{ "a reader may steal a free rwsem from a woken writer", { "r1", "w", "r2" },
	  { { "r1", "r1.in", 1 }, { "w", SIM_POINT_BLOCK, 1 }, { "r1", SIM_POINT_EXIT, 1 },
	    { "r2", "r2.in", 1 }, { "w", SIM_POINT_BLOCK, 1 } },
	  "r1@in r1@out r2@in r2@out w@in w@out" },
};

START_TEST(rwsem_users_get_in_in_the_kernels_order)
{
	const RwsemCase *c = &rwsem_cases[_i];
	g_autoptr(GError) error = NULL;
	guint n = 0, n_steps = 0;

	while (n < G_N_ELEMENTS(c->users) && c->users[n])
		n++;
	while (n_steps < G_N_ELEMENTS(c->steps) && c->steps[n_steps].actor)
		n_steps++;
	g_autofree gchar *events = run_rwsem_users(c->users, n, c->steps, n_steps,
						   SIM_POLICY_ROUND_ROBIN, 1, &error);

	ck_assert_msg(events != NULL, "%s: %s", c->what, error ? error->message : "");
	ck_assert_msg(strcmp(events, c->events) == 0, "%s: %s", c->what, events);
}
END_TEST

/* Writers that sleep on an rwsem get it in the order they queued (only the first is woken):
 * once w1 and w2 sleep behind r, w1 is in before w2 whatever the schedule. */
START_TEST(rwsem_writers_get_it_in_the_order_they_queued)
{
	static const char *const names[] = { "r", "w2", "w1" };
	static const SimStep steps[] = { { "r", "r.in", 1 }, { "w1", SIM_POINT_BLOCK, 1 },
					 { "w2", SIM_POINT_BLOCK, 1 } };

	for (guint policy = SIM_POLICY_RANDOM; policy <= SIM_POLICY_ROUND_ROBIN; policy++) {
		for (guint64 seed = 1; seed <= 64; seed++) {
			g_autoptr(GError) error = NULL;
			g_autofree gchar *events = run_rwsem_users(names, 3, steps, 3, policy, seed,
								   &error);

			ck_assert_msg(events != NULL, "%s", error ? error->message : "");
			ck_assert_msg(strstr(events, "w1@out w2@in"), "seed %" G_GUINT64_FORMAT ": %s",
				      seed, events);
		}
	}
}
END_TEST

/* queued_spin_lock_slowpath() keeps its spinners in line (pending bit, then MCS queue): once
 * s1 and s2 spin on the lock, in that order, s1 gets it first whatever the schedule. */
START_TEST(spinners_get_the_lock_in_the_order_they_came)
{
	static const char *const names[] = { "h", "s2", "s1" };
	static const guint rounds[] = { 1, 1, 1 };
	static const SimStep steps[] = { { "h", "h.in", 1 }, { "s1", SIM_POINT_BLOCK, 1 },
					 { "s2", SIM_POINT_BLOCK, 1 } };

	for (guint policy = SIM_POLICY_RANDOM; policy <= SIM_POLICY_ROUND_ROBIN; policy++) {
		for (guint64 seed = 1; seed <= 64; seed++) {
			g_autoptr(GError) error = NULL;
			g_autofree gchar *events = run_lock_users(TRUE, names, rounds, 3, steps, 3,
								  policy, seed, &error);

			ck_assert_msg(events != NULL, "%s", error ? error->message : "");
			ck_assert_msg(strstr(events, "s1@out s2@in"), "seed %" G_GUINT64_FORMAT ": %s",
				      seed, events);
		}
	}
}
END_TEST

/* A CPU that releases a spinlock with another spinning on it and takes it again at once finds
 * the pending bit or queue tail set: it spins behind the waiter (no steal). */
START_TEST(a_released_spinlock_goes_to_the_spinner_not_a_new_arrival)
{
	static const char *const names[] = { "h", "s" };
	static const guint rounds[] = { 2, 1 };
	static const SimStep steps[] = { { "h", "h.in", 1 }, { "s", SIM_POINT_BLOCK, 1 },
					 { "h", SIM_POINT_BLOCK, 1 } };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *events = run_lock_users(TRUE, names, rounds, 2, steps, 3,
						  SIM_POLICY_ROUND_ROBIN, 1, &error);

	ck_assert_msg(events != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(events, "h@in h@out s@in s@out h@in h@out");
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("qrwlock");

	tcase_add_loop_test(tc, rwlock_users_get_in_in_the_kernels_order, 0, G_N_ELEMENTS(rw_cases));
	tcase_add_test(tc, no_schedule_lets_a_reader_overtake_a_waiting_writer);
	tcase_add_test(tc, a_queued_waiter_makes_the_lock_contended);
	tcase_add_test(tc, a_block_logs_the_holder_and_the_waiters_in_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("mutex");
	tcase_add_test(tc, mutex_waiters_get_it_in_the_order_they_queued);
	tcase_add_test(tc, a_new_arrival_may_steal_a_released_mutex_and_the_next_unlock_hands_it_off);
	tcase_add_test(tc, a_woken_waiter_and_a_new_arrival_race_for_a_released_mutex);
	suite_add_tcase(s, tc);
	tc = tcase_create("qspinlock");
	tcase_add_test(tc, spinners_get_the_lock_in_the_order_they_came);
	tcase_add_test(tc, a_released_spinlock_goes_to_the_spinner_not_a_new_arrival);
	suite_add_tcase(s, tc);
	tc = tcase_create("rwsem");
	tcase_add_loop_test(tc, rwsem_users_get_in_in_the_kernels_order, 0,
			    G_N_ELEMENTS(rwsem_cases));
	tcase_add_test(tc, rwsem_writers_get_it_in_the_order_they_queued);
	suite_add_tcase(s, tc);
	tc = tcase_create("parking");
	tcase_add_test(tc, every_change_of_a_lock_wakes_its_parked_waiters);
	tcase_add_test(tc, lock_waiters_take_the_interleaving_of_asking_each_blocked_actor);
	tcase_add_test(tc, a_held_lock_costs_a_pick_nothing_per_parked_waiter);
	tcase_add_test(tc, a_held_waiter_sure_to_get_in_waits_for_its_release);
	tcase_add_test_raise_signal(tc, the_check_aborts_when_a_lock_changes_without_a_wake,
				    SIGTRAP);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(lock_suite());
}
