/* SPDX-License-Identifier: GPL-2.0-only */
/* asi/: x86-64 table format, domains, sensitivity, asi_map/asi_unmap and the TLB shootdown. */
#include "tests/unit/asi-fixture.h"

START_TEST(direct_map_leaf_is_a_4k_kernel_pte_without_global)
{
	int level = 0;
	guint64 pa = 0;
	guint64 pte = asi_pt_walk(fx.host, fx.mm->pgd, fx.kobj + 0x123, &level, &pa);

	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(pa, fx.kobj - ASI_PAGE_OFFSET + 0x123);
	ck_assert_uint_eq(pte & ~PTE_PFN_MASK,
			  _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX);
	ck_assert(!(pte & (_PAGE_USER | _PAGE_GLOBAL | _PAGE_PSE)));
	ck_assert(kernel_access_ok(fx.host, X86_PF_WRITE, fx.kobj, fx.mm->pgd));
	ck_assert(!kernel_access_ok(fx.host, X86_PF_INSTR, fx.kobj, fx.mm->pgd));
}
END_TEST

START_TEST(user_leaf_has_the_user_bit_and_table_entries_are_present_writable)
{
	guint64 pte = asi_pt_walk(fx.host, fx.mm->pgd, GUEST_UVA, NULL, NULL);
	guint64 pgde = asi_pt_va(fx.host, fx.mm->pgd)[(GUEST_UVA >> 39) & 511];

	ck_assert(pte & _PAGE_USER);
	ck_assert_uint_eq(pte & PTE_PFN_MASK, fx.guest - ASI_PAGE_OFFSET);
	ck_assert_uint_eq(pgde & ~PTE_PFN_MASK,
			  _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED);
	ck_assert_uint_eq(asi_pt_walk(fx.host, fx.mm->pgd, GUEST_UVA + 0x200000, NULL, NULL), 0);
}
END_TEST

START_TEST(cr3_carries_the_kernel_pcid_and_each_class_its_own_asi_pcid)
{
	ck_assert_uint_eq(kern_pcid(fx.mm->asid), 1);
	ck_assert_uint_eq(asi_pcid(fx.kvm, fx.mm->asid), 1 | 1 << 9);
	ck_assert_uint_eq(asi_pcid(fx.user, fx.mm->asid), 1 | 2 << 9);
	ck_assert_uint_eq(fx.cpu->cr3, fx.mm->pgd | 1);
	ck_assert(asi_check_pcids(fx.host, fx.mm));
}
END_TEST

START_TEST(pcid_check_fails_when_the_asid_overflows_into_the_asi_bits)
{
	struct asi_mm *other = NULL;

	for (guint i = 0; i < 600; i++) {
		other = asi_mm_new(fx.host);
		if (i < 599)
			asi_mm_free(fx.host, other);
	}
	ck_assert(!asi_check_pcids(fx.host, other));
	ck_assert(fix_has_violation("asi_pcid_clash"));
}
END_TEST

START_TEST(restricted_kvm_domain_maps_nonsensitive_kernel_memory_but_not_guest_ram)
{
	ck_assert(kernel_access_ok(fx.host, 0, fx.kobj, fx.kvm->pgd));
	ck_assert(!kernel_access_ok(fx.host, 0, fx.guest, fx.kvm->pgd));
	ck_assert(!kernel_access_ok(fx.host, 0, GUEST_UVA, fx.kvm->pgd));
	ck_assert(kernel_access_ok(fx.host, 0, fx.guest, fx.mm->pgd));
	ck_assert(asi_check_restricted_sound(fx.host, fx.kvm));
}
END_TEST

START_TEST(kernel_half_is_shared_so_later_allocations_appear_in_existing_domains)
{
	guint64 later = asi_alloc_pages(fx.host, ASI_OBJ_KERNEL, 2);

	ck_assert(kernel_access_ok(fx.host, 0, later + ASI_PAGE_SIZE, fx.kvm->pgd));
	ck_assert(kernel_access_ok(fx.host, 0, later, fx.user->pgd));
	ck_assert_uint_eq(asi_pt_va(fx.host, fx.kvm->pgd)[300],
			  asi_pt_va(fx.host, asi_global_nonsensitive_pgd(fx.host))[300]);
}
END_TEST

START_TEST(userspace_domain_maps_the_user_half_and_kvm_domain_does_not)
{
	guint64 more = asi_alloc_pages(fx.host, ASI_OBJ_USER, 1);

	asi_mm_map_user(fx.host, fx.mm, 0x1000000000ull, more, 1);
	ck_assert(kernel_access_ok(fx.host, 0, GUEST_UVA, fx.user->pgd));
	ck_assert(kernel_access_ok(fx.host, 0, 0x1000000000ull, fx.user->pgd));
	ck_assert(!kernel_access_ok(fx.host, 0, 0x1000000000ull, fx.kvm->pgd));
	ck_assert(!kernel_access_ok(fx.host, 0, more, fx.user->pgd));
	ck_assert(asi_check_restricted_sound(fx.host, fx.user));
}
END_TEST

START_TEST(sensitivity_is_configurable_per_object_kind)
{
	AsiConfig config;
	AsiHost *host;
	struct asi_mm *mm;
	struct asi *kvm;
	guint64 ram;

	asi_config_init(&config);
	ck_assert(!config.sensitive[ASI_OBJ_KERNEL] && config.sensitive[ASI_OBJ_PAGE_CACHE]);
	config.sensitive[ASI_OBJ_GUEST_RAM] = FALSE;
	host = asi_host_new(&config, NULL);
	kvm_x86_init_asi_class(host);
	mm = asi_mm_new(host);
	asi_init(host, mm, ASI_CLASS_KVM, &kvm);
	ram = asi_alloc_pages(host, ASI_OBJ_GUEST_RAM, 1);
	ck_assert(kernel_access_ok(host, 0, ram, kvm->pgd));
	ck_assert(!asi_page_sensitive(host, ram - ASI_PAGE_OFFSET));
	asi_host_free(host);
}
END_TEST

START_TEST(tracked_sim_frames_are_direct_mapped_with_their_kinds_sensitivity)
{
	guint64 ram = asi_track_frames(fx.host, 0x1234, 2, ASI_OBJ_GUEST_RAM);
	guint64 table = asi_track_frames(fx.host, 0x2000, 1, ASI_OBJ_KERNEL);
	guint64 pa = 0;

	ck_assert_uint_eq(ram, ASI_PAGE_OFFSET + 0x1234000);
	ck_assert(asi_pt_walk(fx.host, fx.mm->pgd, ram + ASI_PAGE_SIZE + 8, NULL, &pa));
	ck_assert_uint_eq(pa, 0x1235008);
	ck_assert(asi_page_sensitive(fx.host, 0x1235000));
	ck_assert(!kernel_access_ok(fx.host, 0, ram, fx.kvm->pgd));
	ck_assert(kernel_access_ok(fx.host, 0, table, fx.kvm->pgd));
	ck_assert(asi_check_restricted_sound(fx.host, fx.kvm));
	asi_track_frames(fx.host, 0x2000, 1, ASI_OBJ_KERNEL);
	ck_assert(fix_has_violation("asi_frame_tracked_twice"));
	asi_free_pages(fx.host, fx.cpu, ram, 2);
	ck_assert(!asi_page_sensitive(fx.host, 0x1235000));
	asi_free_pages(fx.host, fx.cpu, ram, 1);
	ck_assert(fix_has_violation("asi_free_untracked_frame"));
}
END_TEST

START_TEST(soundness_check_fails_when_a_sensitive_page_is_mapped_restricted)
{
	asi_map(fx.host, NULL, fx.guest, ASI_PAGE_SIZE);
	ck_assert(!asi_check_restricted_sound(fx.host, fx.kvm));
	ck_assert(fix_has_violation("asi_restricted_unsound"));
}
END_TEST

START_TEST(unmap_removes_the_mapping_and_shoots_down_every_cpus_tlb)
{
	AsiCpu *cpu1 = asi_host_cpu(fx.host, 1);
	AsiTask t1;
	guint16 pcid1;

	asi_task_init(&t1, fx.mm);
	asi_cpu_switch_to(cpu1, &t1);
	t1.preempt_count = 1;
	asi_enter(cpu1, fx.kvm);
	pcid1 = (guint16)(cpu1->cr3 & X86_CR3_PCID_MASK);
	ck_assert_int_eq(asi_host_access(cpu1, fx.kobj, 0), 0);
	ck_assert(asi_tlb_cached(cpu1, pcid1, fx.kobj));
	ck_assert_int_eq(asi_host_access(fx.cpu, fx.kobj, 0), 0);
	ck_assert(asi_tlb_cached(fx.cpu, kern_pcid(fx.mm->asid), fx.kobj));

	asi_unmap(fx.host, fx.cpu, fx.kobj, ASI_PAGE_SIZE);
	ck_assert(!asi_tlb_cached(cpu1, pcid1, fx.kobj));
	ck_assert(!asi_tlb_cached(fx.cpu, kern_pcid(fx.mm->asid), fx.kobj));
	ck_assert(!kernel_access_ok(fx.host, 0, fx.kobj, fx.kvm->pgd));
	ck_assert(kernel_access_ok(fx.host, 0, fx.kobj, fx.mm->pgd));
	ck_assert_uint_eq(asi_host_stats(fx.host)->tlb_shootdowns, 1);
	ck_assert_uint_eq(asi_host_violations(fx.host)->len, 0);
}
END_TEST

START_TEST(map_restores_the_identical_pte)
{
	guint64 before = asi_pt_walk(fx.host, fx.kvm->pgd, fx.kobj, NULL, NULL);

	asi_unmap(fx.host, NULL, fx.kobj, ASI_PAGE_SIZE);
	ck_assert_int_eq(asi_map(fx.host, fx.cpu, fx.kobj, ASI_PAGE_SIZE), 0);
	ck_assert_uint_eq(asi_pt_walk(fx.host, fx.kvm->pgd, fx.kobj, NULL, NULL), before);
	ck_assert_uint_eq(before, asi_pt_walk(fx.host, fx.mm->pgd, fx.kobj, NULL, NULL));
}
END_TEST

START_TEST(unmap_with_irqs_off_or_in_a_critical_section_is_reported)
{
	fx.cpu->irqs_disabled = TRUE;
	asi_unmap(fx.host, fx.cpu, fx.kobj, ASI_PAGE_SIZE);
	ck_assert(fix_has_violation("asi_unmap_irqs_disabled"));
	fx.cpu->irqs_disabled = FALSE;
	asi_preempt_disable(fx.cpu);
	asi_enter(fx.cpu, fx.kvm);
	ck_assert_int_eq(asi_map(fx.host, fx.cpu, fx.kobj, ASI_PAGE_SIZE), -EINVAL);
	ck_assert(fix_has_violation("asi_map_in_critical_section"));
}
END_TEST

START_TEST(freeing_a_nonsensitive_page_unmaps_it_from_the_restricted_space)
{
	asi_free_pages(fx.host, fx.cpu, fx.kobj, 1);
	ck_assert(!kernel_access_ok(fx.host, 0, fx.kobj, fx.kvm->pgd));
}
END_TEST

START_TEST(a_write_cr3_flushes_only_the_new_pcid)
{
	guint16 kern = kern_pcid(fx.mm->asid);

	ck_assert_int_eq(asi_host_access(fx.cpu, fx.kobj, 0), 0);
	write_cr3_raw(fx.cpu, build_cr3(fx.kvm->pgd, asi_pcid(fx.kvm, fx.mm->asid)));
	ck_assert(asi_tlb_cached(fx.cpu, kern, fx.kobj));
	write_cr3_raw(fx.cpu, build_cr3(fx.mm->pgd, kern) | X86_CR3_PCID_NOFLUSH);
	ck_assert(asi_tlb_cached(fx.cpu, kern, fx.kobj));
	write_cr3_raw(fx.cpu, build_cr3(fx.mm->pgd, kern));
	ck_assert(!asi_tlb_cached(fx.cpu, kern, fx.kobj));
}
END_TEST

START_TEST(destroy_is_refcounted_and_reports_a_domain_still_current)
{
	struct asi *again;

	ck_assert_int_eq(asi_init(fx.host, fx.mm, ASI_CLASS_KVM, &again), 0);
	ck_assert_ptr_eq(again, fx.kvm);
	ck_assert_int_eq(fx.kvm->ref_count, 2);
	asi_destroy(fx.host, fx.kvm);
	ck_assert_uint_ne(fx.kvm->pgd, 0);
	fix_enter_relax(fx.kvm);
	asi_destroy(fx.host, fx.kvm);
	ck_assert(fix_has_violation("asi_destroy_while_current"));
}
END_TEST

START_TEST(class_must_be_initialised_before_a_domain)
{
	struct asi *out = (struct asi *)1;

	asi_uninit_class(fx.host, ASI_CLASS_KVM);
	ck_assert_int_eq(asi_init(fx.host, fx.mm, ASI_CLASS_KVM, &out), -EINVAL);
	ck_assert_ptr_null(out);
	ck_assert(fix_has_violation("asi_init_class_uninitialised"));
	ck_assert_int_eq(kvm_x86_init_asi_class(fx.host), 0);
	ck_assert_int_eq(kvm_x86_init_asi_class(fx.host), -EEXIST);
}
END_TEST

static Suite *
asi_tables_suite(void)
{
	Suite *s = suite_create("asi-tables");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc, direct_map_leaf_is_a_4k_kernel_pte_without_global);
	tcase_add_test(tc, user_leaf_has_the_user_bit_and_table_entries_are_present_writable);
	tcase_add_test(tc, cr3_carries_the_kernel_pcid_and_each_class_its_own_asi_pcid);
	tcase_add_test(tc, pcid_check_fails_when_the_asid_overflows_into_the_asi_bits);
	suite_add_tcase(s, tc);

	tc = tcase_create("domains");
	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc, restricted_kvm_domain_maps_nonsensitive_kernel_memory_but_not_guest_ram);
	tcase_add_test(tc, kernel_half_is_shared_so_later_allocations_appear_in_existing_domains);
	tcase_add_test(tc, userspace_domain_maps_the_user_half_and_kvm_domain_does_not);
	tcase_add_test(tc, sensitivity_is_configurable_per_object_kind);
	tcase_add_test(tc, tracked_sim_frames_are_direct_mapped_with_their_kinds_sensitivity);
	tcase_add_test(tc, soundness_check_fails_when_a_sensitive_page_is_mapped_restricted);
	tcase_add_test(tc, destroy_is_refcounted_and_reports_a_domain_still_current);
	tcase_add_test(tc, class_must_be_initialised_before_a_domain);
	suite_add_tcase(s, tc);

	tc = tcase_create("map");
	tcase_add_checked_fixture(tc, fix_setup, fix_teardown);
	tcase_add_test(tc, unmap_removes_the_mapping_and_shoots_down_every_cpus_tlb);
	tcase_add_test(tc, map_restores_the_identical_pte);
	tcase_add_test(tc, unmap_with_irqs_off_or_in_a_critical_section_is_reported);
	tcase_add_test(tc, freeing_a_nonsensitive_page_unmaps_it_from_the_restricted_space);
	tcase_add_test(tc, a_write_cr3_flushes_only_the_new_pcid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(asi_tables_suite());
}
