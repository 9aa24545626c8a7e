/* SPDX-License-Identifier: GPL-2.0-only */
/* asi/kvm-run.c's sleep hook on the real scheduler: a vCPU thread that sleeps (a wait queue, a
 * sleeping lock) is switched out by context_switch() → asi_exit(CONTEXT_SWITCH) and re-enters
 * the restricted space at its next VM entry; one that spins on a lock stays where it is; a VMM
 * thread's sleep switches nothing (its CPU is shared, and never restricted). */
#include "tests/check-run.h"

#include <string.h>

#include "asi/asi-sim.h"
#include "sim/core/lock.h"
#include "sim/core/log.h"

typedef enum { HOW_WAIT_QUEUE, HOW_RWSEM, HOW_MUTEX, HOW_SPINLOCK } How;

typedef struct {
	SimSched *sched;
	SimLog *log;
	SimHostMem *hm;
	AsiSim *sim;
	How how;
	gboolean woken;             /* the wait queue's condition */
	SimRwsem sem;
	SimSpinlock lock;
	SimMutex mutex;
	gboolean blocked;           /* the vCPU found the lock held */
	gboolean idle_while_asleep; /* CPU 0 ran the idle task (no mm) while vcpu0 waited */
	gboolean restricted_at_block; /* CPU 0 was restricted when vcpu0 blocked */
	gboolean restricted_after;  /* ... and after vcpu0's wait returned, before its next entry */
	gboolean restricted_entry;  /* ... at vcpu0's next VM entry */
	gboolean vmm_switched;      /* the vmm CPU's task changed while the vmm actor slept */
} SleepFix;

static SleepFix sf;

/* A machine of one vCPU with ASI (v2). */
static void
setup(How how)
{
	AsiSimConfig cfg;
	GError *error = NULL;

	memset(&sf, 0, sizeof(sf));
	asi_sim_config_init(&cfg);
	cfg.on = TRUE;
	sf.sched = sim_sched_new(1);
	sf.log = sim_log_new(sf.sched);
	sim_log_capture(sf.log);
	sim_sched_set_log(sf.sched, sf.log);
	sim_sched_set_policy(sf.sched, SIM_POLICY_ROUND_ROBIN);
	sf.hm = sim_hostmem_new(256, 16, NULL, &error);
	ck_assert_ptr_nonnull(sf.hm);
	sf.sim = asi_sim_new(&cfg, sf.sched, sf.hm, 1, 0);
	sf.how = how;
	sf.sem.name = "mmap_lock";
	sf.lock.name = "mmu_unsync_pages_lock";
	sf.mutex.name = "slots_lock";
}

static void
teardown(void)
{
	asi_sim_free(sf.sim);
	sim_hostmem_free(sf.hm);
	sim_sched_free(sf.sched);
	sim_log_free(sf.log);
}

static guint64
stat(const char *key)
{
	const char *k;
	guint64 v;

	for (guint n = 0; asi_sim_stats_nth(sf.sim, n, &k, &v); n++) {
		if (strcmp(k, key) == 0)
			return v;
	}
	ck_abort_msg("no stat %s", key);
	return 0;
}

static gboolean
is_woken(gpointer data)
{
	return sf.woken;
}

/* vcpu0: a VM entry and exit (relaxed, still restricted), the wait, then the next entry. */
static void
vcpu_actor(SimActor *actor, gpointer data)
{
	AsiCpu *cpu0 = asi_sim_cpu(sf.sim, 0);

	asi_kvm_run_enter(sf.sim, 0);
	asi_kvm_vmenter(sf.sim, 0);
	asi_kvm_vmexit(sf.sim, 0);
	sf.restricted_at_block = cpu0->curr_asi != NULL;
	switch (sf.how) {
	case HOW_WAIT_QUEUE:
		sim_wait_sleeping(sf.sched, "test wait queue", is_woken, NULL);
		break;
	case HOW_RWSEM:
		sim_down_read(sf.sched, &sf.sem, "test.down_read");
		sf.blocked = TRUE;
		sim_up_read(sf.sched, &sf.sem, "test.up_read");
		break;
	case HOW_MUTEX:
		sim_mutex_lock(sf.sched, &sf.mutex, "test.mutex_lock");
		sf.blocked = TRUE;
		sim_mutex_unlock(sf.sched, &sf.mutex, "test.mutex_unlock");
		break;
	case HOW_SPINLOCK:
		sf.blocked = sim_spin_lock_blocked(sf.sched, &sf.lock, "test.spin_lock");
		sim_spin_unlock(sf.sched, &sf.lock, "test.spin_unlock");
		break;
	}
	sf.restricted_after = cpu0->curr_asi != NULL;
	asi_kvm_vmenter(sf.sim, 0);
	sf.restricted_entry = cpu0->curr_asi == asi_sim_kvm_domain(sf.sim);
	asi_kvm_vmexit(sf.sim, 0);
	asi_kvm_run_exit(sf.sim, 0);
}

/* The waker (the vmm's CPU): holds the lock until vcpu0 has tried it a while (a few yield
 * points), watching CPU 0, then wakes or releases. */
static void
waker_actor(SimActor *actor, gpointer data)
{
	AsiCpu *cpu0 = asi_sim_cpu(sf.sim, 0);

	for (guint i = 0; i < 64; i++) {
		if (cpu0->current && !cpu0->current->mm)
			sf.idle_while_asleep = TRUE;
		sim_yield(sf.sched, "test.hold");
	}
	sf.woken = TRUE;
	/* the locks let their waiter in */
	if (sf.lock.owner)
		sim_spin_unlock(sf.sched, &sf.lock, "test.spin_unlock");
	if (sf.sem.writer)
		sim_up_write(sf.sched, &sf.sem, "test.up_write");
	if (sf.mutex.owner)
		sim_mutex_unlock(sf.sched, &sf.mutex, "test.mutex_unlock");
}

/* vcpu0 against a waker holding what it waits for. */
static void
run_pair(void)
{
	GError *error = NULL;
	SimActor *waker;

	/* the lock vcpu0 waits for is held from the start by the waker */
	sim_actor_new(sf.sched, "vcpu0", vcpu_actor, NULL);
	waker = sim_actor_new(sf.sched, "waker", waker_actor, NULL);
	if (sf.how == HOW_SPINLOCK)
		sf.lock.owner = waker;
	if (sf.how == HOW_RWSEM)
		sf.sem.writer = waker;
	if (sf.how == HOW_MUTEX)
		sf.mutex.owner = waker;
	ck_assert_msg(sim_sched_run(sf.sched, &error), "%s", error ? error->message : "");
	ck_assert_msg(!sim_sched_failed(sf.sched), "%s", sim_sched_failure(sf.sched));
}

START_TEST(a_vcpu_that_sleeps_exits_by_context_switch_and_reenters_restricted)
{
	static const How hows[] = { HOW_WAIT_QUEUE, HOW_RWSEM, HOW_MUTEX };

	setup(hows[_i]);
	run_pair();
	ck_assert(sf.restricted_at_block);
	ck_assert(sf.how == HOW_WAIT_QUEUE || sf.blocked);
	/* schedule() switched CPU 0 to its idle task: context_switch() → asi_exit */
	ck_assert(sf.idle_while_asleep);
	ck_assert_uint_eq(stat("asi.exits.context_switch"), 1);
	ck_assert(strstr(sim_log_text(sf.log), "sim_asi_sleep: cpu 0 vcpu0 sleeps on "));
	/* back on its thread, unrestricted until the next VM entry, which enters for real */
	ck_assert(!sf.restricted_after);
	ck_assert(sf.restricted_entry);
	ck_assert_uint_eq(stat("asi.enter.real"), 2);
	ck_assert_uint_eq(stat("asi.exits.user_ret"), 1);
	teardown();
}
END_TEST

START_TEST(a_vcpu_that_spins_on_a_lock_stays_restricted)
{
	setup(HOW_SPINLOCK);
	run_pair();
	ck_assert(sf.restricted_at_block);
	ck_assert(sf.blocked);
	ck_assert(!sf.idle_while_asleep);
	ck_assert_uint_eq(stat("asi.exits.context_switch"), 0);
	/* still restricted after the spin: the next entry is a NOP */
	ck_assert(sf.restricted_after);
	ck_assert(sf.restricted_entry);
	ck_assert_uint_eq(stat("asi.enter.real"), 1);
	ck_assert_uint_eq(stat("asi.enter.nop"), 1);
	teardown();
}
END_TEST

/* vcpu0 halts as vcpu-exit.c does: asi_kvm_halt(), kvm_vcpu_halt()'s sleeping wait, and
 * asi_kvm_unhalt() once woken. */
static void
halt_actor(SimActor *actor, gpointer data)
{
	AsiCpu *cpu0 = asi_sim_cpu(sf.sim, 0);

	asi_kvm_run_enter(sf.sim, 0);
	asi_kvm_vmenter(sf.sim, 0);
	asi_kvm_halt(sf.sim, 0);
	sim_wait_sleeping(sf.sched, "kvm_vcpu_halt", is_woken, NULL);
	asi_kvm_unhalt(sf.sim, 0);
	sf.blocked = cpu0->current->mm != NULL; /* back on its thread */
	asi_kvm_vmenter(sf.sim, 0);
	sf.restricted_entry = cpu0->curr_asi == asi_sim_kvm_domain(sf.sim);
	asi_kvm_run_exit(sf.sim, 0);
}

START_TEST(a_halt_that_sleeps_is_one_context_switch_not_two)
{
	GError *error = NULL;

	setup(HOW_WAIT_QUEUE);
	sim_actor_new(sf.sched, "vcpu0", halt_actor, NULL);
	sim_actor_new(sf.sched, "waker", waker_actor, NULL);
	ck_assert_msg(sim_sched_run(sf.sched, &error), "%s", error ? error->message : "");
	ck_assert_msg(!sim_sched_failed(sf.sched), "%s", sim_sched_failure(sf.sched));
	ck_assert(sf.idle_while_asleep);
	ck_assert(sf.blocked);
	ck_assert(sf.restricted_entry);
	ck_assert_uint_eq(stat("asi.exits.context_switch"), 1);
	ck_assert_uint_eq(stat("asi.enter.real"), 2);
	/* the switch was asi_kvm_halt()'s: the sleep hook found the thread switched out */
	ck_assert_ptr_null(strstr(sim_log_text(sf.log), "sim_asi_sleep"));
	teardown();
}
END_TEST

/* The vmm actor sleeps while the waker (named after no CPU owner either) wakes it. */
static void
vmm_actor(SimActor *actor, gpointer data)
{
	AsiCpu *cpu = asi_sim_cpu(sf.sim, 2);
	AsiTask *task = cpu->current;

	sim_wait_sleeping(sf.sched, "test futex", is_woken, NULL);
	sf.vmm_switched = cpu->current != task;
	sf.blocked = TRUE;
}

START_TEST(a_vmm_thread_that_sleeps_switches_nothing)
{
	GError *error = NULL;

	setup(HOW_WAIT_QUEUE);
	sim_actor_new(sf.sched, "vmm", vmm_actor, NULL);
	sim_actor_new(sf.sched, "waker", waker_actor, NULL);
	ck_assert_msg(sim_sched_run(sf.sched, &error), "%s", error ? error->message : "");
	ck_assert(sf.blocked);
	ck_assert(!sf.vmm_switched);
	ck_assert_uint_eq(stat("asi.exits.context_switch"), 0);
	ck_assert_uint_eq(stat("asi.cr3_writes"), 0);
	teardown();
}
END_TEST

/* With no hook (--asi off), sim_wait_sleeping() is sim_wait(): the same yield points. */
static void
plain_actor(SimActor *actor, gpointer data)
{
	sim_wait_sleeping(sf.sched, "test wait queue", is_woken, NULL);
	sf.blocked = TRUE;
}

/* The waker of a machine without ASI. */
static void
plain_waker(SimActor *actor, gpointer data)
{
	sim_yield(sf.sched, "test.hold");
	sf.woken = TRUE;
}

START_TEST(without_a_hook_a_sleeping_wait_is_a_plain_wait)
{
	GError *error = NULL;
	guint n;

	memset(&sf, 0, sizeof(sf));
	sf.sched = sim_sched_new(1);
	sim_sched_set_policy(sf.sched, SIM_POLICY_ROUND_ROBIN);
	sim_sched_set_recording(sf.sched, TRUE);
	sim_actor_new(sf.sched, "vcpu0", plain_actor, NULL);
	sim_actor_new(sf.sched, "waker", plain_waker, NULL);
	ck_assert(sim_sched_run(sf.sched, &error));
	ck_assert(sf.blocked);
	const SimStep *steps = sim_sched_recorded(sf.sched, &n);

	ck_assert_uint_ge(n, 1);
	ck_assert_str_eq(steps[0].actor, "vcpu0");
	ck_assert_str_eq(steps[0].until, SIM_POINT_BLOCK);
	sim_sched_free(sf.sched);
}
END_TEST

static Suite *
asi_sleep_suite(void)
{
	Suite *s = suite_create("asi-sleep");
	TCase *tc = tcase_create("sleep");

	tcase_add_loop_test(tc, a_vcpu_that_sleeps_exits_by_context_switch_and_reenters_restricted,
			    0, 3);
	tcase_add_test(tc, a_vcpu_that_spins_on_a_lock_stays_restricted);
	tcase_add_test(tc, a_halt_that_sleeps_is_one_context_switch_not_two);
	tcase_add_test(tc, a_vmm_thread_that_sleeps_switches_nothing);
	tcase_add_test(tc, without_a_hook_a_sleeping_wait_is_a_plain_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(asi_sleep_suite());
}
