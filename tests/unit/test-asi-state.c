/* SPDX-License-Identifier: GPL-2.0-only */
/* asi/: the enter/relax/exit order, interrupt nesting, the #PF path, NMIs in every window, and
 * the reference §8 invariants each with a case that holds and one that fails. */
#include "tests/unit/asi-fixture.h"

#define SEQ_EQ(expected)                                                                           \
	do {                                                                                       \
		g_autofree char *got_ = fix_take_seq();                                            \
		ck_assert_str_eq(got_, expected);                                                  \
	} while (0)

static const AsiStats *
stats(void)
{
	return asi_host_stats(fx.host);
}

START_TEST(enter_sets_target_then_curr_then_flushes_control_then_cr3_then_data_then_taints)
{
	fx.cpu->taints = ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_CONTROL;
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	SEQ_EQ("target curr ibpb rsb taint:01 cr3:R l1d taint:00 taint:20");
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.kvm);
	ck_assert_uint_eq(fx.cpu->cr3, fx.kvm->pgd | asi_pcid(fx.kvm, fx.mm->asid));
	ck_assert_uint_eq(stats()->enter_real, 1);
	ck_assert_uint_eq(stats()->ibpb + stats()->rsb + stats()->l1d, 3);
	ck_assert(asi_check_vmenter_restricted(fx.cpu, fx.kvm, fx.cpu->cr3));
	ck_assert(asi_check_vmenter_taints(fx.cpu, fx.kvm));
	ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
}
END_TEST

START_TEST(exit_flushes_control_taints_kernel_data_writes_cr3_then_clears_curr)
{
	fix_enter_relax(fx.kvm);
	g_free(fix_take_seq());
	ck_assert(asi_exit(fx.cpu, ASI_EXIT_MISC));
	SEQ_EQ("ibpb rsb taint:00 taint:01 cr3:U curr=0");
	ck_assert_ptr_null(fx.cpu->curr_asi);
	ck_assert_uint_eq(fx.cpu->cr3, fx.mm->pgd | kern_pcid(fx.mm->asid));
	ck_assert(asi_check_after_exit(fx.cpu));
	ck_assert(!asi_exit(fx.cpu, ASI_EXIT_MISC));
	SEQ_EQ("");
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_MISC], 1);
}
END_TEST

START_TEST(reentry_after_relax_is_a_nop_without_cr3_write_or_flush)
{
	AsiStats before;

	fix_enter_relax(fx.kvm);
	g_free(fix_take_seq());
	before = *stats();
	for (int i = 0; i < 3; i++)
		fix_enter_relax(fx.kvm);
	SEQ_EQ("target relax target relax target relax");
	ck_assert_uint_eq(stats()->enter_nop, 3);
	ck_assert(asi_check_steady_nop(fx.host, &before));
}
END_TEST

START_TEST(steady_check_fails_when_entries_switch_domains_without_an_exit)
{
	AsiStats before;

	fix_enter_relax(fx.kvm);
	before = *stats();
	fix_enter_relax(fx.user);
	fix_enter_relax(fx.kvm);
	ck_assert(!asi_check_steady_nop(fx.host, &before));
	ck_assert(fix_has_violation("asi_steady_state_not_nop"));
}
END_TEST

START_TEST(userspace_to_kvm_switch_goes_restricted_to_restricted_with_a_data_flush)
{
	asi_preempt_disable(fx.cpu);
	asi_enter_userspace(fx.cpu);
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.user);
	asi_relax(fx.cpu);
	SEQ_EQ("target curr cr3:R taint:12 relax");
	asi_enter(fx.cpu, fx.kvm);
	SEQ_EQ("target curr cr3:R l1d taint:10 taint:30");
	ck_assert_uint_eq(fx.cpu->cr3 & X86_CR3_PCID_MASK, asi_pcid(fx.kvm, fx.mm->asid));
	ck_assert_uint_eq(stats()->cr3_writes, 2); /* user domain, kvm domain: no exit between */
}
END_TEST

START_TEST(stats_keys_name_each_counter_in_a_fixed_order)
{
	const char *key;
	guint64 value;
	guint n = 0;
	GString *all = g_string_new(NULL);

	fix_enter_relax(fx.kvm);
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.guest, 0), 0);
	fix_enter_relax(fx.kvm);
	fix_enter_relax(fx.kvm);
	while (asi_stats_nth(fx.host, n++, &key, &value))
		g_string_append_printf(all, "%s=%" G_GUINT64_FORMAT " ", key, value);
	ck_assert_str_eq(all->str, "asi.exits.page_fault=1 asi.exits.user_ret=0 "
				   "asi.exits.context_switch=0 asi.exits.tlb_flush=0 asi.exits.misc=0 "
				   "asi.enter.real=2 asi.enter.nop=1 asi.cr3_writes=3 "
				   "asi.flushes.ibpb=1 asi.flushes.rsb=1 asi.flushes.l1d=1 ");
	ck_assert_str_eq(asi_exit_reason_name(ASI_EXIT_CONTEXT_SWITCH), "context_switch");
	g_string_free(all, TRUE);
}
END_TEST

START_TEST(kvm_policy_follows_the_vmexit_mitigations)
{
	AsiConfig config;
	AsiHost *host;
	struct asi_mm *mm;
	struct asi *kvm;
	AsiTask task;

	asi_config_init(&config);
	config.kvm_vmexit_mitigated = TRUE;
	config.l1tf = FALSE;
	host = asi_host_new(&config, NULL);
	kvm_x86_init_asi_class(host);
	mm = asi_mm_new(host);
	asi_init(host, mm, ASI_CLASS_KVM, &kvm);
	asi_task_init(&task, mm);
	asi_cpu_switch_to(asi_host_cpu(host, 0), &task);
	task.preempt_count = 1;
	asi_host_cpu(host, 0)->taints = ASI_TAINT_KERNEL_DATA;
	asi_enter(asi_host_cpu(host, 0), kvm);
	ck_assert_uint_eq(asi_host_cpu(host, 0)->taints, ASI_TAINT_GUEST_DATA);
	ck_assert_uint_eq(asi_host_stats(host)->l1d, 0); /* no L1TF: taint cleared, no flush */
	asi_host_free(host);
}
END_TEST

START_TEST(outermost_interrupt_return_reenters_after_a_nested_exit)
{
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	asi_intr_enter(fx.cpu);
	asi_intr_enter(fx.cpu);
	ck_assert_int_eq(fx.task.intr_nest_depth, 2);
	ck_assert(!asi_in_critical_section(fx.cpu));
	asi_exit(fx.cpu, ASI_EXIT_MISC);
	asi_intr_exit(fx.cpu);
	ck_assert_ptr_null(fx.cpu->curr_asi);
	g_free(fix_take_seq());
	asi_intr_exit(fx.cpu);
	SEQ_EQ("curr cr3:R l1d taint:00 taint:20");
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.kvm);
	ck_assert_int_eq(fx.task.intr_nest_depth, 0);
	ck_assert_uint_eq(stats()->enter_real, 2);
	ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
}
END_TEST

START_TEST(interrupts_while_relaxed_are_not_counted_and_do_not_reenter)
{
	fix_enter_relax(fx.kvm);
	asi_intr_enter(fx.cpu);
	ck_assert_int_eq(fx.task.intr_nest_depth, 0);
	asi_exit(fx.cpu, ASI_EXIT_MISC);
	asi_intr_exit(fx.cpu);
	ck_assert_ptr_null(fx.cpu->curr_asi);
}
END_TEST

START_TEST(sensitive_access_when_relaxed_exits_through_pf_and_retries)
{
	fix_enter_relax(fx.kvm);
	g_free(fix_take_seq());
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.guest, X86_PF_WRITE), 0);
	SEQ_EQ("ibpb rsb taint:00 taint:01 cr3:U curr=0 exit_pf");
	ck_assert_ptr_null(fx.cpu->curr_asi);
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_PAGE_FAULT], 1);
	ck_assert(asi_tlb_cached(fx.cpu, kern_pcid(fx.mm->asid), fx.guest));
	/* the next entry re-enters with the data flush KERNEL_DATA asks for */
	fix_enter_relax(fx.kvm);
	SEQ_EQ("target curr cr3:R l1d taint:00 taint:20 relax");
}
END_TEST

START_TEST(nonsensitive_access_stays_restricted)
{
	fix_enter_relax(fx.kvm);
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.kobj, X86_PF_WRITE), 0);
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.kvm);
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_PAGE_FAULT], 0);
}
END_TEST

START_TEST(access_mapped_nowhere_exits_and_fails_without_looping)
{
	fix_enter_relax(fx.kvm);
	ck_assert_int_eq(asi_host_access(fx.cpu, ASI_PAGE_OFFSET + (1ull << 36), 0), -EFAULT);
	ck_assert_ptr_null(fx.cpu->curr_asi);
	ck_assert(!fix_has_violation("asi_pf_loop"));
}
END_TEST

START_TEST(sensitive_access_in_the_critical_section_is_reported_and_loops)
{
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.guest, 0), -EFAULT);
	ck_assert(fix_has_violation("asi_sensitive_access_in_critical_section"));
	ck_assert(fix_has_violation("asi_pf_loop"));
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.kvm);
}
END_TEST

/* Every step of a first asi_enter, as (point, occurrence). */
static const struct {
	const char *point;
	guint skip;
} enter_windows[] = {
	{ "asi.enter.target", 0 }, { "asi.enter.curr", 0 }, { "asi.flush.ibpb", 0 },
	{ "asi.flush.rsb", 0 },    { "asi.taint", 0 },      { "asi.enter.cr3", 0 },
	{ "asi.flush.l1d", 0 },    { "asi.taint", 1 },      { "asi.taint", 2 },
};

START_TEST(nmi_touching_guest_ram_in_any_window_of_enter_still_vm_enters_restricted)
{
	for (guint i = 0; i < G_N_ELEMENTS(enter_windows); i++) {
		fix_teardown();
		fix_setup();
		fx.cpu->taints = ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_CONTROL;
		fx.nmi_point = enter_windows[i].point;
		fx.nmi_skip = enter_windows[i].skip;
		asi_preempt_disable(fx.cpu);
		fx.cpu->irqs_disabled = TRUE;
		asi_enter(fx.cpu, fx.kvm);
		ck_assert_msg(fx.nmi_fired, "window %u", i);
		ck_assert_int_eq(fx.nmi_result, 0);
		ck_assert_msg(asi_check_vmenter_restricted(fx.cpu, fx.kvm, fx.cpu->cr3), "window %u",
			      i);
		ck_assert_msg(asi_check_vmenter_taints(fx.cpu, fx.kvm), "window %u", i);
		ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
	}
}
END_TEST

static const char *const exit_windows[] = {
	"asi.flush.ibpb", "asi.flush.rsb", "asi.taint", "asi.exit.cr3", "asi.exit.curr",
};

START_TEST(nmi_in_any_window_of_exit_ends_unrestricted_with_control_flushed)
{
	for (guint i = 0; i < G_N_ELEMENTS(exit_windows); i++) {
		fix_teardown();
		fix_setup();
		fix_enter_relax(fx.kvm);
		fx.nmi_point = exit_windows[i];
		asi_exit(fx.cpu, ASI_EXIT_MISC);
		ck_assert_msg(fx.nmi_fired, "window %u", i);
		ck_assert_int_eq(fx.nmi_result, 0);
		ck_assert_ptr_null(fx.cpu->curr_asi);
		ck_assert_uint_eq(fx.cpu->cr3 & PTE_PFN_MASK, fx.mm->pgd);
		ck_assert(asi_check_after_exit(fx.cpu));
	}
}
END_TEST

START_TEST(vmenter_check_fails_when_an_nmi_exits_before_the_critical_section_starts)
{
	/* asi_enter; [NMI → #PF → asi_exit]; start of critical section; VM-enter (§2.5, js-1) */
	fix_enter_relax(fx.kvm);
	asi_intr_enter(fx.cpu);
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.guest, 0), 0);
	asi_intr_exit(fx.cpu);
	fx.task.target = fx.kvm;
	ck_assert(!asi_check_vmenter_restricted(fx.cpu, fx.kvm, fx.cpu->cr3));
	ck_assert(fix_has_violation("asi_vmenter_unrestricted"));
}
END_TEST

START_TEST(interrupt_return_check_fails_when_tense_but_unrestricted)
{
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	ck_assert(asi_check_intr_return(fx.cpu));
	asi_intr_enter(fx.cpu);
	asi_exit(fx.cpu, ASI_EXIT_MISC);
	ck_assert(asi_check_intr_return(fx.cpu)); /* still inside the handler */
	fx.task.intr_nest_depth = 0;              /* a return that skipped asi_intr_exit */
	ck_assert(!asi_check_intr_return(fx.cpu));
	ck_assert(fix_has_violation("asi_intr_return_not_restored"));
}
END_TEST

START_TEST(vmenter_taint_check_fails_with_kernel_data_left)
{
	fix_enter_relax(fx.kvm);
	fx.cpu->taints |= ASI_TAINT_KERNEL_DATA;
	ck_assert(!asi_check_vmenter_taints(fx.cpu, fx.kvm));
	ck_assert(fix_has_violation("asi_vmenter_tainted"));
}
END_TEST

START_TEST(after_exit_check_fails_with_a_control_taint_left)
{
	fix_enter_relax(fx.kvm);
	asi_exit(fx.cpu, ASI_EXIT_MISC);
	fx.cpu->taints |= ASI_TAINT_GUEST_CONTROL;
	ck_assert(!asi_check_after_exit(fx.cpu));
	ck_assert(fix_has_violation("asi_exit_left_control_taint"));
}
END_TEST

START_TEST(enter_and_relax_pairing_violations_are_reported)
{
	fx.cpu->irqs_disabled = TRUE; /* IRQs off is not preemptible either */
	asi_enter(fx.cpu, fx.kvm);
	ck_assert(!fix_has_violation("asi_enter_preemptible"));
	asi_relax(fx.cpu);
	fx.cpu->irqs_disabled = FALSE;
	asi_enter(fx.cpu, fx.kvm);
	ck_assert(fix_has_violation("asi_enter_preemptible"));
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	ck_assert(fix_has_violation("asi_enter_without_relax"));
	asi_intr_enter(fx.cpu);
	asi_relax(fx.cpu);
	ck_assert(fix_has_violation("asi_relax_in_interrupt"));
	fx.task.target = fx.kvm;
	asi_enter(fx.cpu, fx.user);
	ck_assert(fix_has_violation("asi_enter_in_interrupt"));
}
END_TEST

START_TEST(exit_inside_the_critical_section_is_reported)
{
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	asi_exit(fx.cpu, ASI_EXIT_MISC);
	ck_assert(fix_has_violation("asi_exit_in_critical_section"));
}
END_TEST

START_TEST(context_switch_exits_and_squashes_taints_on_an_mm_change)
{
	struct asi_mm *mm2 = asi_mm_new(fx.host);
	AsiTask t2;

	asi_task_init(&t2, mm2);
	fix_enter_relax(fx.kvm);
	asi_preempt_disable(fx.cpu);
	asi_context_switch(fx.cpu, &t2);
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_CONTEXT_SWITCH], 1);
	ck_assert_ptr_null(fx.cpu->curr_asi);
	ck_assert_uint_eq(fx.cpu->taints, ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA);
	ck_assert_uint_eq(fx.cpu->cr3, mm2->pgd | kern_pcid(mm2->asid));
	ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
}
END_TEST

START_TEST(switch_mm_squashes_guest_and_user_taints_into_other_mm)
{
	asi_preempt_disable(fx.cpu);
	fx.cpu->taints = ASI_TAINT_GUEST_CONTROL | ASI_TAINT_KERNEL_DATA | ASI_TAINT_GUEST_DATA;
	asi_handle_switch_mm(fx.cpu);
	ck_assert_uint_eq(fx.cpu->taints, ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA |
						  ASI_TAINT_OTHER_MM_CONTROL);
}
END_TEST

START_TEST(user_return_check_allows_only_the_userspace_domain)
{
	ck_assert(asi_check_unrestricted(fx.cpu, "exit_to_user_mode"));
	fix_enter_relax(fx.user);
	ck_assert(asi_check_unrestricted(fx.cpu, "exit_to_user_mode"));
	ck_assert(!asi_check_unrestricted(fx.cpu, "context_switch"));
	fix_enter_relax(fx.kvm);
	ck_assert(!asi_check_unrestricted(fx.cpu, "exit_to_user_mode"));
	ck_assert(fix_has_violation("asi_restricted_at_switch_or_user_return"));
}
END_TEST

START_TEST(local_tlb_flush_exits_first_and_warns_in_the_critical_section)
{
	fix_enter_relax(fx.kvm);
	native_flush_tlb_local(fx.cpu);
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_TLB_FLUSH], 1);
	ck_assert_ptr_null(fx.cpu->curr_asi);
	ck_assert_uint_eq(fx.cpu->cr3 & PTE_PFN_MASK, fx.mm->pgd);
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	native_flush_tlb_local(fx.cpu);
	ck_assert(fix_has_violation("flush_tlb_local_in_critical_section"));
	ck_assert_ptr_eq(fx.cpu->curr_asi, fx.kvm);
}
END_TEST

START_TEST(double_fault_exits)
{
	fix_enter_relax(fx.kvm);
	exc_double_fault(fx.cpu);
	ck_assert_uint_eq(stats()->exits[ASI_EXIT_MISC], 1);
	ck_assert_ptr_null(fx.cpu->curr_asi);
}
END_TEST

/* test_asi_tainting (branch asi_test.c): every sequence of up to three of {enter user, enter
 * kvm, exit, switch mm} over two mms keeps the taint relations. */
START_TEST(taint_rules_hold_over_every_short_sequence_of_operations)
{
	for (guint n = 1; n <= 3; n++) {
		guint total = n == 1 ? 4 : n == 2 ? 16 : 64;

		for (guint code = 0; code < total; code++) {
			struct asi_mm *mm2;
			AsiTask t2;
			guint c = code;

			fix_teardown();
			fix_setup();
			mm2 = asi_mm_new(fx.host);
			asi_init(fx.host, mm2, ASI_CLASS_KVM, NULL);
			asi_init(fx.host, mm2, ASI_CLASS_USERSPACE, NULL);
			asi_task_init(&t2, mm2);
			for (guint k = 0; k < n; k++, c /= 4) {
				AsiTask *cur = fx.cpu->current;

				switch (c % 4) {
				case 0:
					fix_enter_relax(&cur->mm->asi[ASI_CLASS_USERSPACE]);
					ck_assert(fx.cpu->taints & ASI_TAINT_USER_DATA);
					ck_assert(fx.cpu->taints & ASI_TAINT_USER_CONTROL);
					break;
				case 1:
					fix_enter_relax(&cur->mm->asi[ASI_CLASS_KVM]);
					ck_assert(fx.cpu->taints & ASI_TAINT_GUEST_CONTROL);
					break;
				case 2:
					asi_exit(fx.cpu, ASI_EXIT_MISC);
					if (fx.cpu->taints)
						ck_assert(fx.cpu->taints & ASI_TAINT_KERNEL_DATA);
					break;
				default:
					cur->preempt_count++;
					asi_context_switch(fx.cpu, cur == &fx.task ? &t2 : &fx.task);
					cur->preempt_count--;
					break;
				}
				ck_assert_msg(asi_check_taint_rules(fx.host, fx.cpu->taints),
					      "sequence %u/%u taints %02x", n, code, fx.cpu->taints);
			}
			ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
		}
	}
}
END_TEST

START_TEST(taint_rules_fail_for_kernel_data_with_guest_control)
{
	ck_assert(!asi_check_taint_rules(fx.host, ASI_TAINT_KERNEL_DATA | ASI_TAINT_GUEST_CONTROL));
	ck_assert(!asi_check_taint_rules(fx.host, ASI_TAINT_USER_DATA | ASI_TAINT_OTHER_MM_CONTROL));
	ck_assert(fix_has_violation("asi_taint_rules"));
}
END_TEST

static Suite *
asi_state_suite(void)
{
	Suite *s = suite_create("asi-state");
	TCase *tc = tcase_create("order");

	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc,
		       enter_sets_target_then_curr_then_flushes_control_then_cr3_then_data_then_taints);
	tcase_add_test(tc, exit_flushes_control_taints_kernel_data_writes_cr3_then_clears_curr);
	tcase_add_test(tc, reentry_after_relax_is_a_nop_without_cr3_write_or_flush);
	tcase_add_test(tc, steady_check_fails_when_entries_switch_domains_without_an_exit);
	tcase_add_test(tc, userspace_to_kvm_switch_goes_restricted_to_restricted_with_a_data_flush);
	tcase_add_test(tc, kvm_policy_follows_the_vmexit_mitigations);
	tcase_add_test(tc, stats_keys_name_each_counter_in_a_fixed_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("interrupts");
	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc, outermost_interrupt_return_reenters_after_a_nested_exit);
	tcase_add_test(tc, interrupts_while_relaxed_are_not_counted_and_do_not_reenter);
	tcase_add_test(tc, sensitive_access_when_relaxed_exits_through_pf_and_retries);
	tcase_add_test(tc, nonsensitive_access_stays_restricted);
	tcase_add_test(tc, access_mapped_nowhere_exits_and_fails_without_looping);
	tcase_add_test(tc, sensitive_access_in_the_critical_section_is_reported_and_loops);
	tcase_add_test(tc, nmi_touching_guest_ram_in_any_window_of_enter_still_vm_enters_restricted);
	tcase_add_test(tc, nmi_in_any_window_of_exit_ends_unrestricted_with_control_flushed);
	tcase_add_test(tc, double_fault_exits);
	suite_add_tcase(s, tc);

	tc = tcase_create("invariants");
	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc, vmenter_check_fails_when_an_nmi_exits_before_the_critical_section_starts);
	tcase_add_test(tc, vmenter_taint_check_fails_with_kernel_data_left);
	tcase_add_test(tc, interrupt_return_check_fails_when_tense_but_unrestricted);
	tcase_add_test(tc, after_exit_check_fails_with_a_control_taint_left);
	tcase_add_test(tc, enter_and_relax_pairing_violations_are_reported);
	tcase_add_test(tc, exit_inside_the_critical_section_is_reported);
	tcase_add_test(tc, context_switch_exits_and_squashes_taints_on_an_mm_change);
	tcase_add_test(tc, switch_mm_squashes_guest_and_user_taints_into_other_mm);
	tcase_add_test(tc, user_return_check_allows_only_the_userspace_domain);
	tcase_add_test(tc, local_tlb_flush_exits_first_and_warns_in_the_critical_section);
	tcase_add_test(tc, taint_rules_hold_over_every_short_sequence_of_operations);
	tcase_add_test(tc, taint_rules_fail_for_kernel_data_with_guest_control);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(asi_state_suite());
}
