/* SPDX-License-Identifier: GPL-2.0-only */
/* asi/nmi.c: NMI actors on the scheduler. An NMI in every window of asi_enter and asi_exit ends
 * in the right space, the interrupted actor cannot run while the handler does (others can),
 * handlers never nest (latched, then lost), Junaid's order VM-enters unrestricted, ASI off. */
#include "tests/check-run.h"

#include <errno.h>
#include <string.h>

#include "asi/nmi.h"
#include "sim/core/log.h"

#define GUEST_UVA 0x7f0000000000ull

/* The shapes the vcpu0 actor can run its entries in. */
typedef enum {
	SHAPE_V2,     /* asi_enter(kvm); VM-enter; asi_relax (v2 21/29) */
	SHAPE_BROKEN, /* switch, then start the critical section: js-1's broken order */
} Shape;

static struct {
	SimSched *sched;
	SimLog *log;
	AsiHost *host;
	struct asi_mm *mm;
	struct asi *kvm;
	AsiTask task0, task1;
	AsiNmis *nmis;
	SimActor *vcpu0, *other;
	Shape shape;
	guint entries;          /* VM entries vcpu0 makes */
	guint vmenter_bad;      /* entries that failed §8.1 */
	gboolean exit_at_end;   /* vcpu0 asi_exits (return to the VMM) after its entries */
	int max_depth;          /* deepest intr_nest_depth seen at a step */
	guint raises;           /* NMIs the "other" actor raises on CPU 0 */
} t;

/* The run loop's AsiOps.step: every state-machine step is a yield point. */
static void
step_yield(AsiCpu *cpu, const AsiStep *step, gpointer data)
{
	(void)data;
	if (cpu->current && cpu->current->intr_nest_depth > t.max_depth)
		t.max_depth = cpu->current->intr_nest_depth;
	if (step->point)
		sim_yield(t.sched, step->point);
}

/* Which actor runs on a host CPU: vcpu0 on 0, other on 1. */
static SimActor *
cpu_actor(guint cpu, gpointer data)
{
	(void)data;
	return cpu == 0 ? t.vcpu0 : cpu == 1 ? t.other : NULL;
}

/* vcpu0: its VM entries in the chosen shape, then maybe the return to the VMM. */
static void
vcpu_actor(SimActor *actor, gpointer data)
{
	AsiCpu *cpu = asi_host_cpu(t.host, 0);

	(void)actor;
	(void)data;
	asi_cpu_switch_to(cpu, &t.task0);
	for (guint i = 0; i < t.entries; i++) {
		asi_preempt_disable(cpu);
		cpu->irqs_disabled = TRUE;
		if (t.shape == SHAPE_V2) {
			asi_enter(cpu, t.kvm);
		} else {
			asi_enter(cpu, t.kvm);  /* the address-space switch ... */
			asi_relax(cpu);          /* ... outside any critical section */
			sim_yield(t.sched, "test.start_critical");
			t.task0.target = t.kvm;  /* asi_start_critical: no CR3 change */
		}
		if (!asi_check_vmenter_restricted(cpu, t.kvm, cpu->cr3))
			t.vmenter_bad++;
		sim_yield(t.sched, "test.vmexit");
		asi_relax(cpu);
		cpu->irqs_disabled = FALSE;
		asi_preempt_enable(cpu);
		sim_yield(t.sched, "test.handle_exit");
	}
	if (t.exit_at_end)
		asi_exit(cpu, ASI_EXIT_USER_RET);
}

/* other: on CPU 1; raises NMIs on CPU 0 (as another CPU's NMI IPI would) when asked. */
static void
other_actor(SimActor *actor, gpointer data)
{
	(void)actor;
	(void)data;
	if (t.host)
		asi_cpu_switch_to(asi_host_cpu(t.host, 1), &t.task1);
	sim_yield(t.sched, "test.other");
	for (guint i = 0; i < t.raises; i++)
		asi_nmi_raise(t.nmis, 0, ASI_NMI_TOUCH_GUEST_RAM);
}

/* A host with the KVM class, a VMM mm with guest RAM, vcpu0 on CPU 0, other on CPU 1 and an
 * nmi0 actor delivering n NMIs touching touch. host_on FALSE: ASI off (no host). */
static void
setup_run(gboolean host_on, guint n_nmis, AsiNmiTouch touch)
{
	AsiConfig config;
	AsiOps ops = { .step = step_yield };

	t.sched = sim_sched_new(1);
	t.log = sim_log_new(t.sched);
	sim_log_capture(t.log);
	sim_sched_set_log(t.sched, t.log);
	if (host_on) {
		asi_config_init(&config);
		t.host = asi_host_new(&config, &ops);
		ck_assert_int_eq(kvm_x86_init_asi_class(t.host), 0);
		t.mm = asi_mm_new(t.host);
		ck_assert_int_eq(asi_init(t.host, t.mm, ASI_CLASS_KVM, &t.kvm), 0);
		asi_mm_map_user(t.host, t.mm, GUEST_UVA,
				asi_alloc_pages(t.host, ASI_OBJ_GUEST_RAM, 1), 1);
		asi_task_init(&t.task0, t.mm);
		asi_task_init(&t.task1, t.mm);
		/* what a previous exit to the VMM leaves: unrestricted kernel ran, another mm too */
		asi_host_cpu(t.host, 0)->taints = ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_CONTROL;
	}
	t.nmis = asi_nmis_new(t.sched, t.host, cpu_actor, NULL);
	if (host_on)
		t.vcpu0 = sim_actor_new(t.sched, "vcpu0", vcpu_actor, NULL);
	t.other = sim_actor_new(t.sched, "other", other_actor, NULL);
	AsiNmi nmi[4];

	for (guint i = 0; i < n_nmis; i++)
		nmi[i] = (AsiNmi){ 0, touch, 0 };
	asi_nmi_actor_new(t.nmis, 0, nmi, n_nmis);
}

static void
setup(void)
{
	memset(&t, 0, sizeof(t));
	t.entries = 1;
}

static void
teardown(void)
{
	asi_nmis_free(t.nmis);
	sim_sched_free(t.sched);
	if (t.log)
		sim_log_free(t.log);
	if (t.host) {
		asi_mm_free(t.host, t.mm);
		asi_host_free(t.host);
	}
}

/* Run under steps ("actor:point:count" words), the rest round-robin; TRUE if it completed. */
static gboolean
run_steps(const char *spec, GError **error)
{
	g_auto(GStrv) words = g_strsplit(spec, " ", -1);
	guint n = g_strv_length(words);
	SimStep *steps = g_new0(SimStep, n);

	for (guint i = 0; i < n; i++) {
		g_auto(GStrv) f = g_strsplit(words[i], ":", 3);

		steps[i].actor = g_strdup(f[0]);
		steps[i].until = g_strdup(f[1]);
		steps[i].count = f[2] ? (guint)g_ascii_strtoull(f[2], NULL, 10) : 1;
	}
	sim_sched_set_steps(t.sched, steps, n, SIM_POLICY_ROUND_ROBIN);
	for (guint i = 0; i < n; i++) {
		g_free(steps[i].actor);
		g_free(steps[i].until);
	}
	g_free(steps);
	return sim_sched_run(t.sched, error);
}

/* Every step of a first asi_enter with KERNEL_DATA and OTHER_MM_CONTROL set, as point:count. */
static const char *const enter_windows[] = {
	"asi.enter.target:1", "asi.enter.curr:1", "asi.flush.ibpb:1", "asi.flush.rsb:1",
	"asi.taint:1",        "asi.enter.cr3:1",  "asi.flush.l1d:1",  "asi.taint:2",
	"asi.taint:3",
};

START_TEST(nmi_touching_guest_ram_in_every_window_of_enter_vm_enters_restricted)
{
	for (guint i = 0; i < G_N_ELEMENTS(enter_windows); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *spec = g_strdup_printf("vcpu0:%s nmi0:exit vcpu0:exit other:exit",
							 enter_windows[i]);

		teardown();
		setup();
		setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
		ck_assert_msg(run_steps(spec, &error), "%s: %s", spec, error ? error->message : "");
		ck_assert_msg(t.vmenter_bad == 0, "window %s", enter_windows[i]);
		ck_assert_uint_eq(asi_nmis_stats(t.nmis)->handled, 1);
		ck_assert_uint_eq(asi_host_violations(t.host)->len, 0);
		/* the #PF exited iff the CR3 write had happened; the return re-entered */
		ck_assert_uint_eq(asi_host_stats(t.host)->exits[ASI_EXIT_PAGE_FAULT],
				  i >= 5 ? 1 : 0);
		ck_assert_uint_eq(asi_host_stats(t.host)->enter_real, i >= 5 ? 2 : 1);
		ck_assert_int_le(t.max_depth, 2); /* the NMI and its #PF */
	}
}
END_TEST

/* Every step of asi_exit from the KVM domain (GUEST_CONTROL set) as point:count. */
static const char *const exit_windows[] = {
	"asi.flush.ibpb:1", "asi.flush.rsb:1", "asi.taint:1", "asi.taint:2", "asi.exit.cr3:1",
	"asi.exit.curr:1",
};

START_TEST(nmi_in_every_window_of_exit_ends_unrestricted)
{
	for (guint i = 0; i < G_N_ELEMENTS(exit_windows); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *spec = g_strdup_printf(
			"vcpu0:test.handle_exit vcpu0:%s nmi0:exit vcpu0:exit other:exit",
			exit_windows[i]);

		teardown();
		setup();
		t.exit_at_end = TRUE;
		setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
		ck_assert_msg(run_steps(spec, &error), "%s: %s", spec, error ? error->message : "");
		AsiCpu *cpu = asi_host_cpu(t.host, 0);

		ck_assert_ptr_null(cpu->curr_asi);
		ck_assert_uint_eq(cpu->cr3 & PTE_PFN_MASK, t.mm->pgd);
		ck_assert_msg(asi_check_after_exit(cpu), "window %s", exit_windows[i]);
		ck_assert_uint_eq(asi_host_violations(t.host)->len, 0);
		/* relaxed: the handler's exits are never undone by a re-entry */
		ck_assert_uint_eq(asi_host_stats(t.host)->enter_real, 1);
	}
}
END_TEST

START_TEST(interrupted_actor_cannot_run_until_the_handler_returns)
{
	g_autoptr(GError) error = NULL;

	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert(!run_steps("vcpu0:asi.enter.curr nmi0:nmi.handler vcpu0:exit", &error));
	ck_assert(g_error_matches(error, SIM_SCHED_ERROR, SIM_SCHED_ERROR_SCHEDULE));
	ck_assert_msg(strstr(error->message, "an interrupt handler runs on its CPU"), "%s",
		      error->message);
}
END_TEST

START_TEST(another_cpu_runs_while_the_handler_does)
{
	g_autoptr(GError) error = NULL;

	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert_msg(run_steps("vcpu0:asi.enter.cr3 nmi0:nmi.handler other:exit nmi0:exit "
				"vcpu0:exit", &error), "%s", error ? error->message : "");
	ck_assert_uint_eq(t.vmenter_bad, 0);
	ck_assert_ptr_nonnull(strstr(sim_log_text(t.log),
				     "sim_nmi: cpu 0 interrupts vcpu0 at asi.enter.cr3: cr3 restricted "
				     "curr_asi set target set depth 0, touch guest-ram"));
	ck_assert_ptr_nonnull(strstr(sim_log_text(t.log), "sim_nmi_iret: cpu 0 back to vcpu0: "
				     "cr3 restricted curr_asi set target set depth 0"));
}
END_TEST

START_TEST(nonsensitive_touch_stays_restricted)
{
	g_autoptr(GError) error = NULL;

	setup_run(TRUE, 1, ASI_NMI_TOUCH_KERNEL);
	ck_assert(run_steps("vcpu0:test.vmexit nmi0:exit vcpu0:exit other:exit", &error));
	ck_assert_uint_eq(asi_host_stats(t.host)->exits[ASI_EXIT_PAGE_FAULT], 0);
	ck_assert_ptr_nonnull(asi_host_cpu(t.host, 0)->curr_asi);
	ck_assert_uint_eq(asi_nmis_stats(t.nmis)->left_unrestricted, 0);
}
END_TEST

START_TEST(relaxed_nmi_exits_and_the_next_entry_re_enters_with_flushes)
{
	g_autoptr(GError) error = NULL;

	t.entries = 2;
	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert(run_steps("vcpu0:test.handle_exit nmi0:exit vcpu0:exit other:exit", &error));
	const AsiStats *s = asi_host_stats(t.host);

	ck_assert_uint_eq(asi_nmis_stats(t.nmis)->left_unrestricted, 1);
	ck_assert_uint_eq(s->exits[ASI_EXIT_PAGE_FAULT], 1);
	ck_assert_uint_eq(s->enter_real, 2);
	ck_assert_uint_eq(s->enter_nop, 0);
	/* exit: IBPB + RSB (GUEST_CONTROL); re-entry: L1D (KERNEL_DATA); first entry: all three */
	ck_assert_uint_eq(s->ibpb, 2);
	ck_assert_uint_eq(s->l1d, 2);
	ck_assert_uint_eq(t.vmenter_bad, 0);
}
END_TEST

START_TEST(nested_nmi_is_latched_then_lost)
{
	g_autoptr(GError) error = NULL;

	t.raises = 2;
	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert_msg(run_steps("vcpu0:test.vmexit nmi0:nmi.handler other:exit nmi0:exit "
				"vcpu0:exit", &error), "%s", error ? error->message : "");
	const AsiNmiStats *n = asi_nmis_stats(t.nmis);

	ck_assert_uint_eq(n->handled, 2);
	ck_assert_uint_eq(n->latched, 1);
	ck_assert_uint_eq(n->lost, 1);
	ck_assert_int_le(t.max_depth, 2); /* never an NMI inside an NMI */
	ck_assert_ptr_nonnull(strstr(sim_log_text(t.log), "sim_nmi_restart: cpu 0"));
	/* the restarted body ran inside the outer one's asi_intr_enter/exit: re-entered once */
	ck_assert_ptr_nonnull(asi_host_cpu(t.host, 0)->curr_asi);
	ck_assert_uint_eq(t.vmenter_bad, 0);
}
END_TEST

START_TEST(broken_order_vm_enters_unrestricted_after_an_nmi_between)
{
	g_autoptr(GError) error = NULL;

	t.shape = SHAPE_BROKEN;
	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert(run_steps("vcpu0:test.start_critical nmi0:exit vcpu0:exit other:exit", &error));
	ck_assert_uint_eq(t.vmenter_bad, 1);
	ck_assert_uint_eq(asi_nmis_stats(t.nmis)->left_unrestricted, 1);
}
END_TEST

START_TEST(broken_order_without_an_nmi_vm_enters_restricted)
{
	g_autoptr(GError) error = NULL;

	t.shape = SHAPE_BROKEN;
	setup_run(TRUE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert(run_steps("vcpu0:exit nmi0:exit other:exit", &error));
	ck_assert_uint_eq(t.vmenter_bad, 0);
}
END_TEST

START_TEST(several_nmis_one_actor_each_after_an_iret)
{
	g_autoptr(GError) error = NULL;

	t.entries = 2;
	setup_run(TRUE, 2, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert_msg(run_steps("vcpu0:asi.enter.cr3 nmi0:nmi.iret vcpu0:asi.enter.target "
				"nmi0:exit vcpu0:exit other:exit", &error), "%s",
		      error ? error->message : "");
	ck_assert_uint_eq(asi_nmis_stats(t.nmis)->handled, 2);
	ck_assert_uint_eq(t.vmenter_bad, 0);
}
END_TEST

START_TEST(asi_off_nmi_runs_and_returns)
{
	g_autoptr(GError) error = NULL;

	setup_run(FALSE, 1, ASI_NMI_TOUCH_GUEST_RAM);
	ck_assert(run_steps("other:test.other nmi0:exit other:exit", &error));
	ck_assert_uint_eq(asi_nmis_stats(t.nmis)->handled, 1);
	ck_assert_ptr_nonnull(strstr(sim_log_text(t.log), "sim_nmi: cpu 0 interrupts the idle task: "
				     "no ASI, touch guest-ram"));
}
END_TEST

START_TEST(touch_names_round_trip)
{
	for (guint i = 0; i < ASI_NMI_TOUCH_NR; i++) {
		AsiNmiTouch touch;

		ck_assert(asi_nmi_touch_lookup(asi_nmi_touch_name(i), &touch));
		ck_assert_uint_eq(touch, i);
	}
	AsiNmiTouch touch;

	ck_assert(!asi_nmi_touch_lookup("sensitive", &touch));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("asi-nmi");
	TCase *tc = tcase_create("nmi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, nmi_touching_guest_ram_in_every_window_of_enter_vm_enters_restricted);
	tcase_add_test(tc, nmi_in_every_window_of_exit_ends_unrestricted);
	tcase_add_test(tc, interrupted_actor_cannot_run_until_the_handler_returns);
	tcase_add_test(tc, another_cpu_runs_while_the_handler_does);
	tcase_add_test(tc, nonsensitive_touch_stays_restricted);
	tcase_add_test(tc, relaxed_nmi_exits_and_the_next_entry_re_enters_with_flushes);
	tcase_add_test(tc, nested_nmi_is_latched_then_lost);
	tcase_add_test(tc, broken_order_vm_enters_unrestricted_after_an_nmi_between);
	tcase_add_test(tc, broken_order_without_an_nmi_vm_enters_restricted);
	tcase_add_test(tc, several_nmis_one_actor_each_after_an_iret);
	tcase_add_test(tc, asi_off_nmi_runs_and_returns);
	tcase_add_test(tc, touch_names_round_trip);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
