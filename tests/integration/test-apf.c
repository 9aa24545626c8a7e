/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Async page faults on whole machines (mmu/async_pf.c, sim/cpu/inject.c, sim/vmm/apf-user.c):
 * the guest's runtime takes the injected events through its IDT (its handlers fail the run on
 * a frame or a reason they do not expect), tasks run while pages are in flight, and each
 * mechanism's counts are what its design says - the useless injections exactly where Sean
 * Christopherson said they would be.
 */
#include "tests/check-run.h"
#include <string.h>

#include "tests/integration/machine.h"

/* apftasks (4 tasks a vCPU), vcpus vCPUs, 64 KiB (16 remote pages), 4 steps a fetch. */
static Machine *
run_apf(const char *workload, const char *mech, guint vcpus, gboolean capture)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = workload;
	cfg.nr_vcpus = vcpus;
	cfg.mem_size = 64 << 10;
	cfg.postcopy = mech;
	cfg.postcopy_fetch_steps = 4;
	m = machine_new(&cfg, capture);
	machine_run(m);
	ck_assert_msg(sim_vmm_guest_result(m->vmm) == SIM_GUEST_PASS, "%s: %s / %s", mech,
		      sim_vmm_console(m->vmm), sim_vmm_error(m->vmm));
	return m;
}

/* Mainline async PF: every first touch is a 'not present' the guest took, every token ends in a
 * 'page ready', the kworkers (not the vCPUs) sleep in userfaultfd. */
START_TEST(async_pf_injects_not_present_and_page_ready)
{
	Machine *m = run_apf("apftasks", "async-pf", 1, TRUE);
	const char *log = sim_log_text(m->log);

	ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_NOT_PRESENT), 16);
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_INJECTED), 16);
	/* 16 tokens and the wakeup_all of the enable */
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_READY), 17);
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_USELESS_APF), 0);
	/* four tasks read one gfn first: the double-fault rule halts the vCPU once */
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_REPEATED_FAULTS), 1);
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_HALTS), 1);
	ck_assert_ptr_nonnull(strstr(log, "sim_inject_exception: vcpu 0 #PF (0x0) cr2 0x1000"));
	ck_assert_ptr_nonnull(strstr(log, "kworker0  sim_uffd_fault:"));
	ck_assert_ptr_null(strstr(log, "vcpu0     sim_uffd_fault:"));
	/* the guest parked tasks: it ran others while pages were in flight */
	ck_assert_ptr_null(strstr(sim_vmm_console(m->vmm), "parked_max=0 "));
	machine_free(m);
}
END_TEST

/* RFC v1 with a VMM that resolves on the vCPU thread: one useless pair per page. */
START_TEST(sync_resolve_injects_uselessly_and_v2_does_not)
{
	Machine *v1 = run_apf("apftasks", "async-pf-user-sync", 1, FALSE);
	Machine *v2 = run_apf("apftasks", "async-pf-user-v2-sync", 1, FALSE);

	ck_assert_uint_eq(machine_counter(v1, SIM_CTR_APF_USER_EXITS), 16);
	ck_assert_uint_eq(machine_counter(v1, SIM_CTR_POSTCOPY_USELESS_APF), 16);
	ck_assert_uint_eq(machine_counter(v2, SIM_CTR_APF_USER_EXITS), 16);
	ck_assert_uint_eq(machine_counter(v2, SIM_CTR_APF_INJECTED), 0);
	ck_assert_uint_eq(machine_counter(v2, SIM_CTR_POSTCOPY_USELESS_APF), 0);
	machine_free(v1);
	machine_free(v2);
}
END_TEST

/* The VMM that hands off: no useless injection, no vCPU waits in the VMM. */
START_TEST(hand_off_runs_the_vcpu_at_once)
{
	static const char *const mechs[] = { "async-pf-user", "async-pf-user-v2" };

	for (guint i = 0; i < G_N_ELEMENTS(mechs); i++) {
		Machine *m = run_apf("apftasks", mechs[i], 1, FALSE);

		ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_USER_EXITS), 16);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_APF_INJECTED), 16);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_USELESS_APF), 0);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_UFFD_FAULTS), 0);
		machine_free(m);
	}
}
END_TEST

/* touch offered async PF runs its +apf build and passes under every mechanism on 2 vCPUs. */
START_TEST(touch_passes_under_every_async_pf_mechanism)
{
	static const char *const mechs[] = {
		"async-pf", "async-pf-user", "async-pf-user-sync", "async-pf-user-v2",
		"async-pf-user-v2-sync",
	};

	for (guint i = 0; i < G_N_ELEMENTS(mechs); i++) {
		Machine *m = run_apf("touch", mechs[i], 2, FALSE);

		ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_FETCHED), 16);
		machine_free(m);
	}
}
END_TEST

static Suite *
apf_suite(void)
{
	Suite *s = suite_create("apf-machine");
	TCase *tc = tcase_create("apf-machine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, async_pf_injects_not_present_and_page_ready);
	tcase_add_test(tc, sync_resolve_injects_uselessly_and_v2_does_not);
	tcase_add_test(tc, hand_off_runs_the_vcpu_at_once);
	tcase_add_test(tc, touch_passes_under_every_async_pf_mechanism);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(apf_suite());
}
