/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Async page faults on whole machines (mmu/async_pf.c, sim/cpu/inject.c, sim/vmm/apf-user.c):
 * the guest's runtime takes the injected events through its IDT (its handlers fail the run on
 * a frame or a reason they do not expect), tasks run while pages are in flight, and each
 * mechanism's counts are what its design says - the useless injections exactly where Sean
 * Christopherson said they would be.
 */
#include "tests/check-run.h"
#include <stdio.h>
#include <string.h>

#include "mmu/async_pf.h"
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

/* The line's event if a vCPU logged it ("STEP vcpuN EVENT: ..."), its id in *id; else NULL. */
static const char *
vcpu_event(const char *line, guint *id)
{
	int at = 0;

	if (sscanf(line, " %*u vcpu%u %n", id, &at) != 1 || !at)
		return NULL;
	return line + at;
}

/* apftasks under mainline async PF (4 steps a fetch, 64 KiB) on vcpus vCPUs, with migrate host
 * migrations (on the stacks only if stacks), ASI on or off; the log is captured. */
static Machine *
run_apf_migrating(guint vcpus, guint64 seed, const char *migrate, gboolean stacks, gboolean asi)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = "apftasks";
	cfg.nr_vcpus = vcpus;
	cfg.seed = seed;
	cfg.mem_size = 64 << 10;
	cfg.postcopy = "async-pf";
	cfg.postcopy_fetch_steps = 4;
	ck_assert(sim_host_events_parse(migrate, &cfg.host_events, NULL));
	if (stacks) {
		cfg.host_event_regions = SIM_VMM_REGION_STACKS;
		cfg.host_event_interval = 4;
	}
	asi_sim_config_init(&cfg.asi);
	cfg.asi.on = asi;
	m = machine_new(&cfg, TRUE);
	machine_run(m);
	ck_assert_msg(sim_vmm_guest_result(m->vmm) == SIM_GUEST_PASS, "%s", sim_vmm_error(m->vmm));
	return m;
}

/*
 * The order of vcpu_enter_guest() (arch/x86/kvm/x86.c in ColinIanKing/linux-next at 046408cf):
 * requests (a TLB flush, a new root) are served before kvm_check_and_inject_events() queues the
 * event (kvm_inj_*), and the CPU delivers it at the entry (kvm_entry with that event in
 * intr_info), through the root loaded then: never with a flush still due. The run migrates the
 * vCPU's stack under async PF, so events fall due while a flush is pending. Before the fix,
 * kvmsim delivered (sim_inject_*) before the flush and before kvm_entry, which logged
 * intr_info 0.
 */
START_TEST(events_are_delivered_at_the_entry_after_the_flush_through_the_new_root)
{
	Machine *m = run_apf_migrating(1, 1, "migrate=20", TRUE, FALSE);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(m->log), "\n", -1);
	guint delivered = 0, after_flush = 0, line_no, id;
	gboolean flushed = FALSE, injected = FALSE, entry_event = FALSE;
	guint32 queued = 0;

	for (guint i = 0; lines[i]; i++) {
		const char *e = vcpu_event(lines[i], &id);
		guint32 info = 0;

		line_no = i + 1;
		if (!e)
			continue;
		ck_assert_uint_eq(id, 0);
		ck_assert_msg(!g_str_has_prefix(e, "sim_invariant:"), "line %u: %s", line_no, e);
		/* an exit, or an entry cancelled before it ran: the next one serves requests anew */
		if (g_str_has_prefix(e, "kvm_exit:") || g_str_has_prefix(e, "sim_entry_cancelled:")) {
			flushed = injected = entry_event = FALSE;
		} else if (g_str_has_prefix(e, "sim_tlb_flush:")) {
			ck_assert_msg(!injected, "line %u: a TLB flush after the event was injected",
				      line_no);
			flushed = TRUE;
		} else if (g_str_has_prefix(e, "kvm_inj_exception: #PF (0x0)")) {
			injected = TRUE;
			queued = 0x80000b0e; /* valid, hardware exception, error code, vector 14 */
		} else if (g_str_has_prefix(e, "kvm_inj_virq: IRQ 0xf3")) {
			injected = TRUE;
			queued = 0x800000f3; /* valid, external interrupt, vector 243 */
		} else if (g_str_has_prefix(e, "kvm_entry:")) {
			const char *f = strstr(e, "intr_info 0x");

			ck_assert_ptr_nonnull(f);
			info = (guint32)g_ascii_strtoull(f + strlen("intr_info 0x"), NULL, 16);
			ck_assert_msg(info == (injected ? queued : 0), "line %u: %s after %s", line_no, e,
				      injected ? "an injection" : "no injection");
			entry_event = injected;
		} else if (g_str_has_prefix(e, "sim_inject_")) {
			ck_assert_msg(entry_event, "line %u: %s delivered before its entry", line_no, e);
			delivered++;
			after_flush += flushed;
			flushed = injected = entry_event = FALSE;
		}
	}
	/* 16 'not present' #PFs and 17 'page ready' interrupts, some due with a flush pending */
	ck_assert_uint_eq(delivered, 33);
	ck_assert_uint_gt(after_flush, 0);
	machine_free(m);
}
END_TEST

/*
 * An entry that exits on an IPI sent during ASI's switch (kvm_make_all_cpus_request() or a kick
 * found the vCPU IN_GUEST_MODE, IRQs off) still completes its VM entry: the CPU delivers the
 * injected event, then exits before the handler's first instruction, with no IDT-vectoring
 * information, so KVM injects nothing again (vmx_complete_interrupts(), vmx.c in
 * ColinIanKing/linux-next at 046408cf). The exit's rip is the handler's and the vCPU's next
 * injection is a new event. Before the fix the event was cancelled at the IPI exit and injected
 * again ([reinjected]).
 */
START_TEST(an_entry_that_exits_on_an_ipi_delivers_its_event_first)
{
	Machine *m = run_apf_migrating(2, 8, "migrate=40", FALSE, TRUE);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(m->log), "\n", -1);
	gboolean event_entry[2] = { FALSE, FALSE }, delivered[2] = { FALSE, FALSE };
	gboolean after_ipi[2] = { FALSE, FALSE };
	guint64 handler[2] = { 0, 0 };
	guint ipi_exits = 0, id;

	for (guint i = 0; lines[i]; i++) {
		const char *e = vcpu_event(lines[i], &id), *f;

		if (!e)
			continue;
		ck_assert_uint_lt(id, 2);
		if (g_str_has_prefix(e, "kvm_inj_")) {
			ck_assert_msg(!(after_ipi[id] && g_str_has_suffix(e, " [reinjected]")),
				      "line %u: %s after an IPI exit that delivered it", i + 1, e);
			after_ipi[id] = FALSE;
		} else if (g_str_has_prefix(e, "kvm_entry:")) {
			event_entry[id] = !strstr(e, " intr_info 0x00000000 ");
			delivered[id] = FALSE;
		} else if (g_str_has_prefix(e, "sim_inject_") && (f = strstr(e, " handler 0x"))) {
			delivered[id] = TRUE;
			handler[id] = g_ascii_strtoull(f + strlen(" handler 0x"), NULL, 16);
		} else if (g_str_has_prefix(e, "kvm_exit:")) {
			gboolean ipi = strstr(e, " reason EXTERNAL_INTERRUPT ") &&
				       (strstr(e, " intr_info 0x800000fb ") ||
					strstr(e, " intr_info 0x800000fc ") ||
					strstr(e, " intr_info 0x800000fd "));

			if (ipi && event_entry[id]) {
				g_autofree gchar *at = g_strdup_printf(" rip 0x%" G_GINT64_MODIFIER "x ",
								       handler[id]);

				ck_assert_msg(delivered[id], "line %u: %s before the event's delivery",
					      i + 1, e);
				ck_assert_msg(strstr(e, at), "line %u: %s not at the handler%s", i + 1,
					      e, at);
				ipi_exits++;
				after_ipi[id] = TRUE;
			}
			event_entry[id] = FALSE;
		}
	}
	ck_assert_uint_gt(ipi_exits, 0);
	machine_free(m);
}
END_TEST

/*
 * An interrupt pending while the guest has IF clear opens an interrupt window (enable_irq_window()
 * in kvm_check_and_inject_events(), x86.c in ColinIanKing/linux-next at 046408cf); once IF is set
 * the CPU exits with EXIT_REASON_INTERRUPT_WINDOW (handle_interrupt_window(), vmx.c at 046408cf)
 * and the next entry injects. Every kvm_entry of a vCPU has its kvm_exit before the vCPU's next
 * kvm_entry: before the fix the window's exit logged nothing, two kvm_entry lines in a row.
 */
START_TEST(an_interrupt_window_exit_is_logged_between_two_entries)
{
	Machine *m = run_apf("apftasks", "async-pf-user", 1, TRUE);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(m->log), "\n", -1);
	guint windows = 0, window_exits = 0, id;
	gboolean in_guest = FALSE, window_open = FALSE;

	for (guint i = 0; lines[i]; i++) {
		const char *e = vcpu_event(lines[i], &id);

		if (!e)
			continue;
		if (g_str_has_prefix(e, "kvm_entry:")) {
			ck_assert_msg(!in_guest, "line %u: %s with no kvm_exit since the last entry",
				      i + 1, e);
			in_guest = TRUE;
		} else if (g_str_has_prefix(e, "kvm_exit:")) {
			in_guest = FALSE;
			if (strstr(e, " reason INTERRUPT_WINDOW ")) {
				ck_assert_msg(window_open, "line %u: %s with no window open", i + 1, e);
				window_open = FALSE;
				window_exits++;
			}
		} else if (g_str_has_prefix(e, "sim_irq_window:")) {
			windows++;
			window_open = TRUE;
		}
	}
	/* the handler's ACK raises the next 'page ready' with IF clear (trace 43's story) */
	ck_assert_uint_gt(windows, 0);
	ck_assert_uint_eq(window_exits, windows);
	machine_free(m);
}
END_TEST

/*
 * A page that becomes ready while its vCPU is IN_GUEST_MODE (in ASI's entry switch, IRQs off)
 * kicks it: kvm_arch_async_page_present_queued() (x86.c in ColinIanKing/linux-next at 046408cf)
 * makes KVM_REQ_APF_READY and calls kvm_vcpu_kick() unless a 'page ready' is still pending, so
 * the entry exits at once on the reschedule IPI with the request set. Before the fix only the
 * request was made, and the vCPU ran a whole quantum before it looked at it.
 */
START_TEST(a_page_ready_kicks_a_vcpu_in_guest_mode)
{
	Machine *m = run_apf_migrating(2, 1, "migrate=40", FALSE, TRUE);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(m->log), "\n", -1);
	guint kicked = 0, id;

	for (guint i = 0; lines[i]; i++) {
		const char *e = vcpu_event(lines[i], &id), *f;

		if (!e || !g_str_has_prefix(e, "kvm_exit:") || !strstr(e, " intr_info 0x800000fd ") ||
		    !(f = strstr(e, " requests 0x")))
			continue;
		kicked += (g_ascii_strtoull(f + strlen(" requests 0x"), NULL, 16) >>
			   KVM_REQ_APF_READY) & 1;
	}
	ck_assert_uint_gt(kicked, 0);
	machine_free(m);
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
	tcase_add_test(tc, events_are_delivered_at_the_entry_after_the_flush_through_the_new_root);
	tcase_add_test(tc, an_entry_that_exits_on_an_ipi_delivers_its_event_first);
	tcase_add_test(tc, a_page_ready_kicks_a_vcpu_in_guest_mode);
	tcase_add_test(tc, an_interrupt_window_exit_is_logged_between_two_entries);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(apf_suite());
}
