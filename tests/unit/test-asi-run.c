/* SPDX-License-Identifier: GPL-2.0-only */
/* asi/asi-sim.h: the KVM run loop's ASI calls on the real scheduler (yield points, counters,
 * invariants), the accessor through sim/core's host memory, host CPUs, NMIs in the windows of
 * the VM entry with both API shapes and Junaid's broken order planted. */
#include "tests/check-run.h"

#include <string.h>

#include "asi/asi-sim.h"
#include "sim/core/invariants.h"

typedef struct {
	SimSched *sched;
	SimHostMem *hm;
	AsiSim *sim;
	SimPfn guest;      /* a guest RAM frame, sensitive */
	GString *points;   /* the points vcpu0 yielded at */
	guint entries;     /* VM entries vcpu0 makes */
	gboolean touch;    /* vcpu0 touches guest between its first exit and second entry */
	int nmi_result;
} RunFix;

static RunFix rf;
static int order_case; /* which order asi_order_catches_curr_asi_and_cr3_out_of_order breaks */

/* A machine of one vCPU with ASI in the given shape. */
static void
setup(AsiApi api, SimMutations mutations)
{
	AsiSimConfig cfg;
	GError *error = NULL;

	memset(&rf, 0, sizeof(rf));
	asi_sim_config_init(&cfg);
	cfg.on = TRUE;
	cfg.api = api;
	rf.sched = sim_sched_new(1);
	sim_sched_set_policy(rf.sched, SIM_POLICY_ROUND_ROBIN);
	rf.hm = sim_hostmem_new(256, 16, NULL, &error);
	ck_assert_ptr_nonnull(rf.hm);
	rf.sim = asi_sim_new(&cfg, rf.sched, rf.hm, 1, mutations);
	rf.guest = sim_frame_alloc(rf.hm);
	rf.points = g_string_new(NULL);
	rf.entries = 2;
}

static void
teardown(void)
{
	asi_sim_free(rf.sim);
	sim_hostmem_free(rf.hm);
	sim_sched_free(rf.sched);
	g_string_free(rf.points, TRUE);
}

/* Every yield point, by actor: "vcpu0:asi.enter.target ...". */
static void
record_point(SimSched *sched, const char *point, gpointer data)
{
	g_string_append_printf(rf.points, "%s:%s ", sim_sched_current_name(sched), point);
}

/* KVM_RUN: entries VM entries, a guest RAM touch after the first exit if asked, the return. */
static void
vcpu_actor(SimActor *actor, gpointer data)
{
	asi_kvm_run_enter(rf.sim, 0);
	for (guint i = 0; i < rf.entries && !sim_sched_failed(rf.sched); i++) {
		asi_kvm_vmenter(rf.sim, 0);
		asi_kvm_vmexit(rf.sim, 0);
		if (i == 0 && rf.touch)
			sim_frame_kernel_access(rf.hm, rf.guest, TRUE, "clear_page");
	}
	asi_kvm_run_exit(rf.sim, 0);
}

/* An NMI on CPU 0 whose handler (a perf sample) reads guest RAM. */
static void
nmi_handler(gpointer data)
{
	AsiCpu *cpu = asi_sim_current_cpu(rf.sim);

	asi_intr_enter(cpu);
	sim_frame_kernel_access(rf.hm, rf.guest, FALSE, "perf_sample");
	asi_intr_exit(cpu);
}

static void
nmi_actor(SimActor *actor, gpointer data)
{
	asi_sim_run_on(rf.sim, sim_hostcpu_of_actor(asi_sim_hostcpus(rf.sim), "nmi0"), nmi_handler,
		       NULL);
}

static guint64
stat(const char *key)
{
	const char *k;
	guint64 v;

	for (guint n = 0; asi_sim_stats_nth(rf.sim, n, &k, &v); n++) {
		if (strcmp(k, key) == 0)
			return v;
	}
	ck_abort_msg("no stat %s", key);
	return 0;
}

static void
run(void)
{
	GError *error = NULL;

	sim_sched_set_step_hook(rf.sched, record_point, NULL);
	ck_assert_msg(sim_sched_run(rf.sched, &error), "%s", error ? error->message : "");
}

START_TEST(host_cpus_map_actors_and_run_on_nests)
{
	SimHostCpus *cpus = asi_sim_hostcpus((setup(ASI_API_V2, 0), rf.sim));

	ck_assert_uint_eq(sim_hostcpus_nr(cpus), 3);
	ck_assert_uint_eq(sim_hostcpu_of_actor(cpus, "vcpu0"), 0);
	ck_assert_uint_eq(sim_hostcpu_of_actor(cpus, "nmi0"), 0);
	ck_assert_uint_eq(sim_hostcpu_of_actor(cpus, "notifier"), 1);
	ck_assert_uint_eq(sim_hostcpu_of_actor(cpus, "vmm"), 2);
	ck_assert_uint_eq(sim_hostcpu_of_actor(cpus, "nmi7"), 2); /* no CPU 7: not an NMI of one */
	ck_assert_uint_eq(sim_hostcpu_current(cpus), 2);            /* set-up code: the vmm's */
	ck_assert_ptr_eq(asi_sim_actor_cpu(rf.sim, "nmi0"), asi_sim_cpu(rf.sim, 0));
	teardown();
}
END_TEST

START_TEST(steady_entries_are_nops_with_no_cr3_write)
{
	setup(ASI_API_V2, 0);
	rf.entries = 5;
	sim_actor_new(rf.sched, "vcpu0", vcpu_actor, NULL);
	run();
	ck_assert(!sim_sched_failed(rf.sched));
	ck_assert_uint_eq(stat("asi.enter.real"), 1);
	ck_assert_uint_eq(stat("asi.enter.nop"), 4);
	ck_assert_uint_eq(stat("asi.exits.user_ret"), 1);
	ck_assert_uint_eq(stat("asi.exits.page_fault"), 0);
	ck_assert_uint_eq(stat("asi.cr3_writes"), 2);
	/* the first entry's steps are yield points, in the kernel's order */
	ck_assert_msg(g_str_has_prefix(rf.points->str, "vcpu0:asi.enter.target vcpu0:asi.enter.curr "
				       "vcpu0:asi.enter.cr3 vcpu0:asi.taint vcpu0:asi.relax.target "),
		      "%s", rf.points->str);
	ck_assert_ptr_null(asi_sim_cpu(rf.sim, 0)->curr_asi);
	/* cost: 2 CR3 writes, one IBPB + RSB fill on the way out (GUEST_CONTROL) */
	ck_assert_uint_eq(stat("asi.flushes.ibpb"), 1);
	ck_assert_uint_eq(stat("asi.cost"), 2 * 250 + 4000 + 100);
	teardown();
}
END_TEST

START_TEST(a_guest_ram_touch_after_an_exit_faults_exits_and_the_next_entry_is_real)
{
	setup(ASI_API_V2, 0);
	rf.touch = TRUE;
	sim_actor_new(rf.sched, "vcpu0", vcpu_actor, NULL);
	run();
	ck_assert(!sim_sched_failed(rf.sched));
	ck_assert_uint_eq(stat("asi.exits.page_fault"), 1);
	ck_assert_uint_eq(stat("asi.enter.real"), 2);
	ck_assert_uint_eq(stat("asi.enter.nop"), 0);
	/* re-entry after KERNEL_DATA: an L1D flush (and the first entry had nothing to flush) */
	ck_assert_uint_eq(stat("asi.flushes.l1d"), 1);
	ck_assert(strstr(rf.points->str, "vcpu0:asi.exit.cr3 vcpu0:asi.exit.curr "));
	teardown();
}
END_TEST

START_TEST(kernel_access_exits_only_where_restricted_and_only_for_sensitive_frames)
{
	AsiCpu *cpu0;

	setup(ASI_API_V2, 0);
	cpu0 = asi_sim_cpu(rf.sim, 0);
	/* set-up code runs on the vmm's CPU, never restricted: no exit */
	sim_frame_kernel_access(rf.hm, rf.guest, TRUE, "clear_page");
	ck_assert_uint_eq(stat("asi.exits.page_fault"), 0);
	ck_assert(asi_page_sensitive(asi_sim_host(rf.sim), rf.guest << 12));
	ck_assert(!asi_page_sensitive(asi_sim_host(rf.sim), (guint64)SIM_ZERO_PFN << 12));
	/* CPU 0 restricted (as after a VM exit): the zero page is mapped, guest RAM is not */
	asi_preempt_disable(cpu0);
	asi_enter(cpu0, asi_sim_kvm_domain(rf.sim));
	asi_relax(cpu0);
	asi_preempt_enable(cpu0);
	ck_assert_ptr_eq(cpu0->curr_asi, asi_sim_kvm_domain(rf.sim));
	asi_sim_run_on(rf.sim, 0, (void (*)(gpointer))nmi_handler, NULL);
	ck_assert_ptr_null(cpu0->curr_asi); /* relaxed: the NMI's exit stands */
	ck_assert_uint_eq(stat("asi.exits.page_fault"), 1);
	/* a freed frame leaves the direct map's books; the next one is tracked again */
	sim_frame_free(rf.hm, rf.guest);
	ck_assert(!asi_page_sensitive(asi_sim_host(rf.sim), rf.guest << 12));
	ck_assert_uint_eq(asi_host_violations(asi_sim_host(rf.sim))->len, 0);
	asi_sim_finish(rf.sim);
	ck_assert(!sim_sched_failed(rf.sched));
	teardown();
}
END_TEST

/* vcpu0 runs to the point-th arrival at point, the NMI runs whole, then vcpu0 goes on. */
static void
nmi_at(const char *point)
{
	SimStep steps[] = {
		{ (gchar *)"vcpu0", (gchar *)point, 1 },
		{ (gchar *)"nmi0", (gchar *)SIM_POINT_EXIT, 1 },
	};

	rf.entries = 1;
	sim_actor_new(rf.sched, "vcpu0", vcpu_actor, NULL);
	sim_actor_new(rf.sched, "nmi0", nmi_actor, NULL);
	sim_sched_set_steps(rf.sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	run();
}

static const char *const enter_windows[] = { "asi.enter.target", "asi.enter.curr",
					     "asi.enter.cr3", "asi.taint" };
/* Until the restricted CR3 is written the hardware still walks the unrestricted tables: the
 * NMI's access does not fault there. */
static const guint64 enter_window_exits[] = { 0, 0, 1, 1 };

START_TEST(an_nmi_in_any_window_of_the_v2_entry_still_vm_enters_restricted)
{
	setup(ASI_API_V2, 0);
	nmi_at(enter_windows[_i]);
	ck_assert_msg(!sim_sched_failed(rf.sched), "%s", sim_sched_failure(rf.sched));
	ck_assert_uint_eq(stat("asi.exits.page_fault"), enter_window_exits[_i]);
	teardown();
}
END_TEST

START_TEST(an_nmi_in_any_window_of_asi_start_critical_still_vm_enters_restricted)
{
	setup(ASI_API_CRITICAL, 0);
	nmi_at(enter_windows[_i]);
	ck_assert_msg(!sim_sched_failed(rf.sched), "%s", sim_sched_failure(rf.sched));
	ck_assert_uint_eq(stat("asi.exits.page_fault"), enter_window_exits[_i]);
	teardown();
}
END_TEST

START_TEST(junaids_order_vm_enters_unrestricted_when_an_nmi_faults_before_the_target)
{
	char name[64];

	setup(ASI_API_CRITICAL, SIM_MUTATION_BIT(SIM_MUT_ASI_CRITICAL_AFTER_ENTER));
	nmi_at("asi.enter.cr3");
	ck_assert(sim_sched_failed(rf.sched));
	ck_assert(sim_invariant_of_reason(sim_sched_failure(rf.sched), name, sizeof(name)));
	ck_assert_str_eq(name, "asi_vmenter_restricted");
	ck_assert(sim_invariant_lookup(name));
	teardown();
}
END_TEST

/* §8.7 fed an order the kernel never has: after "asi.enter.curr" the hook takes curr_asi away
 * again (the CR3 write then loads a domain curr_asi does not name); after "asi.exit.cr3" it
 * puts the restricted CR3 back (curr_asi is then cleared on a restricted CPU). */
static guint64 restricted_cr3;

static void
break_order(SimSched *sched, const char *point, gpointer data)
{
	AsiCpu *cpu = asi_sim_cpu(rf.sim, 0);

	record_point(sched, point, NULL);
	if (strcmp(point, "asi.enter.cr3") == 0)
		restricted_cr3 = cpu->cr3;
	if (order_case == 0 && strcmp(point, "asi.enter.curr") == 0)
		cpu->curr_asi = NULL;
	if (order_case == 1 && strcmp(point, "asi.exit.cr3") == 0)
		cpu->cr3 = restricted_cr3;
}

START_TEST(asi_order_catches_curr_asi_and_cr3_out_of_order)
{
	const char *const reports[] = { "asi_order_enter", "asi_order_exit" };
	char name[64];

	order_case = _i;
	setup(ASI_API_V2, 0);
	rf.touch = TRUE; /* the #PF's asi_exit */
	sim_actor_new(rf.sched, "vcpu0", vcpu_actor, NULL);
	sim_sched_set_step_hook(rf.sched, break_order, NULL);
	sim_sched_run(rf.sched, NULL);
	ck_assert(sim_sched_failed(rf.sched));
	ck_assert(sim_invariant_of_reason(sim_sched_failure(rf.sched), name, sizeof(name)));
	ck_assert_str_eq(name, "asi_order");
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(rf.sched), reports[_i]));
	teardown();
}
END_TEST

START_TEST(junaids_order_without_an_nmi_is_not_seen)
{
	setup(ASI_API_CRITICAL, SIM_MUTATION_BIT(SIM_MUT_ASI_CRITICAL_AFTER_ENTER));
	sim_actor_new(rf.sched, "vcpu0", vcpu_actor, NULL);
	run();
	ck_assert(!sim_sched_failed(rf.sched));
	teardown();
}
END_TEST

START_TEST(halt_is_a_context_switch_that_exits_and_a_new_vcpu_thread_runs_after_it)
{
	AsiCpu *cpu0;

	setup(_i ? ASI_API_CRITICAL : ASI_API_V2, 0);
	cpu0 = asi_sim_cpu(rf.sim, 0);
	asi_kvm_vmenter(rf.sim, 0);
	asi_kvm_vmexit(rf.sim, 0);
	ck_assert(asi_kvm_in_run(rf.sim, 0));
	asi_kvm_halt(rf.sim, 0);
	ck_assert(!asi_kvm_in_run(rf.sim, 0));
	ck_assert_ptr_null(cpu0->curr_asi);
	ck_assert_ptr_null(cpu0->current->mm); /* the idle task */
	ck_assert_uint_eq(stat("asi.exits.context_switch"), 1);
	/* a rebooted VM's vCPU 0: a new thread the idle task switches to */
	asi_kvm_run_enter(rf.sim, 0);
	ck_assert_ptr_nonnull(cpu0->current->mm);
	asi_kvm_vmenter(rf.sim, 0);
	asi_kvm_vmexit(rf.sim, 0);
	asi_kvm_run_exit(rf.sim, 0);
	ck_assert_uint_eq(stat("asi.enter.real"), 2);
	ck_assert_msg(!sim_sched_failed(rf.sched), "%s", sim_sched_failure(rf.sched));
	teardown();
}
END_TEST

START_TEST(a_long_tlb_flush_of_the_mm_exits_by_ipi_once_irqs_are_on)
{
	AsiCpu *cpu0;

	setup(ASI_API_V2, 0);
	cpu0 = asi_sim_cpu(rf.sim, 0);
	asi_kvm_vmenter(rf.sim, 0); /* IRQs off until the VM exit */
	sim_hostmem_flush_tlb_mm(rf.hm, 64);
	ck_assert_ptr_eq(cpu0->curr_asi, asi_sim_kvm_domain(rf.sim));
	ck_assert_uint_eq(stat("asi.exits.tlb_flush"), 0);
	asi_kvm_vmexit(rf.sim, 0);
	ck_assert_ptr_null(cpu0->curr_asi);
	ck_assert_uint_eq(stat("asi.exits.tlb_flush"), 1);
	/* up to 33 pages the flush goes page by page: no CR3 reload, no exit */
	asi_kvm_vmenter(rf.sim, 0);
	asi_kvm_vmexit(rf.sim, 0);
	sim_hostmem_flush_tlb_mm(rf.hm, 33);
	ck_assert_ptr_eq(cpu0->curr_asi, asi_sim_kvm_domain(rf.sim));
	ck_assert_uint_eq(stat("asi.exits.tlb_flush"), 1);
	ck_assert(!sim_sched_failed(rf.sched));
	teardown();
}
END_TEST

START_TEST(costs_parse_defaults_overrides_and_refusals)
{
	AsiCosts c;
	g_autofree gchar *text = NULL;
	GError *error = NULL;

	ck_assert(asi_costs_parse("ibpb=10,l1d=0", &c, NULL));
	ck_assert_uint_eq(c.ibpb, 10);
	ck_assert_uint_eq(c.l1d, 0);
	ck_assert_uint_eq(c.cr3_write, 250);
	text = asi_costs_format(&c);
	ck_assert_str_eq(text, "cr3_write=250,ibpb=10,rsb=100,l1d=0,page_fault=1000");
	ck_assert(!asi_costs_parse("ibpb", &c, &error));
	g_clear_error(&error);
	ck_assert(!asi_costs_parse("tlb=3", &c, &error));
	g_clear_error(&error);
}
END_TEST

static Suite *
asi_run_suite(void)
{
	Suite *s = suite_create("asi-run");
	TCase *tc = tcase_create("run-loop");

	tcase_add_test(tc, host_cpus_map_actors_and_run_on_nests);
	tcase_add_test(tc, steady_entries_are_nops_with_no_cr3_write);
	tcase_add_test(tc, a_guest_ram_touch_after_an_exit_faults_exits_and_the_next_entry_is_real);
	tcase_add_test(tc, kernel_access_exits_only_where_restricted_and_only_for_sensitive_frames);
	tcase_add_loop_test(tc, an_nmi_in_any_window_of_the_v2_entry_still_vm_enters_restricted, 0,
			    G_N_ELEMENTS(enter_windows));
	tcase_add_loop_test(tc, an_nmi_in_any_window_of_asi_start_critical_still_vm_enters_restricted,
			    0, G_N_ELEMENTS(enter_windows));
	tcase_add_test(tc, junaids_order_vm_enters_unrestricted_when_an_nmi_faults_before_the_target);
	tcase_add_test(tc, junaids_order_without_an_nmi_is_not_seen);
	tcase_add_loop_test(tc, asi_order_catches_curr_asi_and_cr3_out_of_order, 0, 2);
	tcase_add_loop_test(tc, halt_is_a_context_switch_that_exits_and_a_new_vcpu_thread_runs_after_it,
			    0, 2);
	tcase_add_test(tc, a_long_tlb_flush_of_the_mm_exits_by_ipi_once_irqs_are_on);
	tcase_add_test(tc, costs_parse_defaults_overrides_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(asi_run_suite());
}
