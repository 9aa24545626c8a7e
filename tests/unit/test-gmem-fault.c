/* SPDX-License-Identifier: GPL-2.0-only */
/* The private/shared decision of the fault path, KVM_SET_MEMORY_ATTRIBUTES, and their races
 * with hole punches, attribute changes and conversions (explicit schedules). */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "tests/unit/gmem-harness.h"

#define PAGE 4096ull

START_TEST(set_memory_attributes_refuses_bad_input)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmVm *dflt = gm_vm_new(host, KVM_X86_DEFAULT_VM, FALSE, 1);
	GmVm *in_place = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	struct kvm_memory_attributes a = {
		.address = 0, .size = PAGE, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE, .flags = 1,
	};

	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	a.flags = 0;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(dflt->kvm, &a), -EINVAL);
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(in_place->kvm, &a), -EINVAL);
	a.attributes = 1;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	a.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	a.size = 0;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	a.address = (u64)-PAGE;
	a.size = 2 * PAGE;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	a.address = 100;
	a.size = PAGE;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	a.address = 0;
	a.size = PAGE + 1;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), -EINVAL);
	ck_assert(!kvm_mem_is_private(vm->kvm, 0));
	/* shared on a default VM is what it already has: accepted, nothing to do */
	a.size = PAGE;
	a.attributes = 0;
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(dflt->kvm, &a), 0);
	gm_vm_put(vm);
	gm_vm_put(dflt);
	gm_vm_put(in_place);
	test_machine_free(host);
}
END_TEST

START_TEST(setting_attributes_zaps_every_slot_inside_a_window_then_stores)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	gm_vm_add_gmem_slot(vm, 0);
	ck_assert_int_eq(gm_fault(vm, 0, 3 * PAGE, TRUE), RET_PF_FIXED); /* shared: from the hva */
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 3 * PAGE)),
			  sim_mm_lookup(host->mm, vm->hva + 3 * PAGE));
	guint64 seq = vm->kvm->mmu_invalidate_seq;

	ck_assert_int_eq(gm_set_private(vm, 2 * PAGE, 4 * PAGE, TRUE), 0);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 3 * PAGE)));
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, seq + 1);
	ck_assert(kvm_mem_is_private(vm->kvm, 5));
	ck_assert(!kvm_mem_is_private(vm->kvm, 6));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERTED_TO_PRIVATE], 4);
	ck_assert_ptr_nonnull(strstr(sim_log_text(host->log), "kvm_vm_set_mem_attributes: "
				     "0x00000000000002 -- 0x00000000000006 [0x8]"));
	/* the same attributes again: no window at all */
	ck_assert_int_eq(gm_set_private(vm, 2 * PAGE, 4 * PAGE, TRUE), 0);
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, seq + 1);
	/* the private refault maps the gmem folio of the index */
	ck_assert_int_eq(gm_fault(vm, 0, 3 * PAGE, FALSE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 3 * PAGE)),
			  kvm_gmem_folio_pfn(host->files, vm->fd, 3));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(private_gfn_without_guest_memfd_is_a_memory_fault_exit)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	gm_vm_add_anon_slot(vm);
	ck_assert_int_eq(gm_set_private(vm, 0, PAGE, TRUE), 0);
	ck_assert_int_eq(gm_fault(vm, 0, 0x10, TRUE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.gpa, 0);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	/* a private gfn with no memslot at all: emulated MMIO is shared-only */
	ck_assert_int_eq(gm_set_private(vm, GM_MEM, PAGE, TRUE), 0);
	ck_assert_int_eq(gm_fault(vm, 0, GM_MEM, FALSE), -EFAULT);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_EXITS_MEMORY_FAULT], 2);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(gmem_only_slot_serves_shared_faults_from_the_file)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_DEFAULT_VM, FALSE, 1);

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	ck_assert_int_eq(gm_fault(vm, 0, 7 * PAGE, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 7 * PAGE)),
			  kvm_gmem_folio_pfn(host->files, vm->fd, 7));
	ck_assert_uint_eq(sim_mm_lookup(host->mm, vm->hva + 7 * PAGE), SIM_PFN_NONE);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

/* A private fault and a hole punch of its page, in each order the schedule can name. */
static const struct {
	const char *steps;
	int expected;
	gboolean present;
} punch_races[] = {
	/* punched between the binding check and the folio lookup: a new folio, then stale */
	{ "vcpu0:gmem.get_pfn_folio,vmm:exit,vcpu0:exit", RET_PF_RETRY, FALSE },
	/* the fault holds the old folio's reference when the hole is punched: stale */
	{ "vcpu0:fault.pfn_resolved,vmm:exit,vcpu0:exit", RET_PF_RETRY, FALSE },
	/* the punch's window is open when the fault reaches mmu_lock */
	{ "vmm:gmem.punch_truncate,vcpu0:exit,vmm:exit", RET_PF_RETRY, FALSE },
	/* the fault installed first: the punch zaps it */
	{ "vcpu0:exit,vmm:exit", RET_PF_FIXED, FALSE },
	/* the punch finished first: the fault maps a fresh page */
	{ "vmm:exit,vcpu0:exit", RET_PF_FIXED, TRUE },
};

START_TEST(punch_hole_racing_get_pfn_never_leaves_a_stale_private_spte)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	GmFault f = { vm, 0, 2 * PAGE, TRUE, -1 };
	GmVmm v = { vm, GM_PUNCH, 2 * PAGE, -1 };

	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, FALLOC_FL_KEEP_SIZE, 2 * PAGE,
					    PAGE), 0);
	SimPfn old = kvm_gmem_folio_pfn(host->files, vm->fd, 2);

	gm_race(host, &f, &v);
	test_machine_run_steps(host, punch_races[_i].steps);
	ck_assert_int_eq(v.result, 0);
	ck_assert_msg(f.result == punch_races[_i].expected, "%s: got %d", punch_races[_i].steps,
		      f.result);
	u64 spte = gm_spte(vm, 2 * PAGE);

	ck_assert_int_eq(is_shadow_present_pte(spte), punch_races[_i].present);
	if (punch_races[_i].present)
		ck_assert_uint_eq(spte_to_pfn(spte), kvm_gmem_folio_pfn(host->files, vm->fd, 2));
	/* the old folio is gone for good, whoever held it last */
	ck_assert(!sim_frame_allocated(host->hm, old));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(attribute_change_racing_a_private_fault_retries)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	GmFault f = { vm, 0, 4 * PAGE, TRUE, -1 };
	GmVmm v = { vm, GM_SET_SHARED, 4 * PAGE, -1 };

	gm_race(host, &f, &v);
	/* the fault resolved its private pfn; the page turns shared before mmu_lock */
	test_machine_run_steps(host, "vcpu0:fault.mmu_lock,vmm:exit,vcpu0:exit");
	ck_assert_int_eq(v.result, 0);
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 4 * PAGE)));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_SEQ_CHANGED], 1);
	/* the retry is a shared access now, served from the hva */
	ck_assert_int_eq(gm_fault(vm, 0, 4 * PAGE, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 4 * PAGE)),
			  sim_mm_lookup(host->mm, vm->hva + 4 * PAGE));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(attribute_change_inside_the_window_at_the_locked_check_retries)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	GmFault f = { vm, 0, 4 * PAGE, TRUE, -1 };
	GmVmm v = { vm, GM_SET_SHARED, 4 * PAGE, -1 };

	gm_race(host, &f, &v);
	/* the window is open (zapped, not stored) while the fault checks under mmu_lock */
	test_machine_run_steps(host, "vcpu0:fault.mmu_lock,vmm:attr.store,vcpu0:exit,vmm:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_IN_PROGRESS], 1);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 4 * PAGE)));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(a_private_access_that_meets_a_shared_gfn_exits_to_userspace)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	GmFault f = { vm, 0, 6 * PAGE + 8, FALSE, -1 };
	GmVmm v = { vm, GM_SET_SHARED, 6 * PAGE, -1 };

	gm_race(host, &f, &v);
	/* the access was private at entry; the gfn is shared by the snapshot */
	test_machine_run_steps(host, "vcpu0:fault.seq_snapshot,vmm:exit,vcpu0:exit");
	ck_assert_int_eq(f.result, -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.gpa, 6 * PAGE);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.size, PAGE);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(in_place_conversion_racing_a_private_fault_retries)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	GmFault f = { vm, 0, 9 * PAGE, TRUE, -1 };
	GmVmm v = { vm, GM_CONVERT_SHARED, 9 * PAGE, -1 };

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP);
	ck_assert(kvm_mem_is_private(vm->kvm, 9)); /* the inode answers: private at creation */
	gm_race(host, &f, &v);
	test_machine_run_steps(host, "vcpu0:fault.mmu_lock,vmm:gmem.convert_store,vcpu0:exit,vmm:exit");
	ck_assert_int_eq(v.result, 0);
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 9 * PAGE)));
	ck_assert(!kvm_mem_is_private(vm->kvm, 9));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERTED_TO_SHARED], 1);
	/* the shared refault maps the same folio: conversion in place */
	ck_assert_int_eq(gm_fault(vm, 0, 9 * PAGE, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 9 * PAGE)),
			  kvm_gmem_folio_pfn(host->files, vm->fd, 9));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(release_racing_a_fault_that_holds_the_file_waits_for_it)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	GmFault f = { vm, 0, PAGE, TRUE, -1 };
	GmVmm v = { vm, GM_CLOSE, 0, -1 };
	struct kvm *kvm = vm->kvm;

	kvm_get_kvm(kvm); /* keep the VM to look at it after the release */
	gm_race(host, &f, &v);
	/* close(2) while get_pfn holds the file: the fd goes, the fault keeps the file and maps
	 * the page; its last fput leaves the release to its return to user mode, which zaps */
	test_machine_run_steps(host, "vcpu0:gmem.get_pfn_folio,vmm:exit,vcpu0:exit");
	ck_assert_msg(!sim_sched_failed(host->sched), "%s", sim_sched_failure(host->sched));
	ck_assert_int_eq(v.result, 0);
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert_ptr_null(kvm_id_to_memslot(kvm, 0)->gmem.file);
	ck_assert(!is_shadow_present_pte(kvm_tdp_mmu_leaf_spte(kvm, 1, NULL)));
	ck_assert_int_eq(gm_fault(vm, 0, PAGE, TRUE), -EFAULT);
	ck_assert(!sim_sched_failed(host->sched));
	kvm_put_kvm(kvm);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(a_leaf_left_in_a_converted_range_is_reported)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	gm_vm_add_gmem_slot(vm, 0);
	ck_assert_int_eq(gm_fault(vm, 0, 3 * PAGE, TRUE), RET_PF_FIXED);
	kvm_mmu_check_range_unmapped(vm->kvm, 0, 3, "converted_page_still_mapped");
	ck_assert(!sim_sched_failed(host->sched));
	kvm_mmu_check_range_unmapped(vm->kvm, 3, 4, "converted_page_still_mapped");
	ck_assert(sim_sched_failed(host->sched));
	ck_assert_ptr_nonnull(strstr(sim_log_text(host->log),
				     "sim_invariant: converted_page_still_mapped: gfn 0x3"));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(an_unflushed_translation_of_a_zapped_page_is_reported)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 2);
	struct kvm *kvm = vm->kvm;

	gm_vm_add_gmem_slot(vm, 0);
	ck_assert_int_eq(gm_fault(vm, 1, 3 * PAGE, TRUE), RET_PF_FIXED);
	struct kvm_gfn_range range = {
		.slot = kvm_id_to_memslot(kvm, 0), .start = 3, .end = 4, .may_block = TRUE,
	};

	/* zapped inside a window, but nobody asked the vCPUs to flush */
	sim_write_lock(kvm->sched, &kvm->mmu_lock, "gmem.inval_mmu_lock");
	kvm_mmu_invalidate_begin(kvm);
	ck_assert(kvm_mmu_unmap_gfn_range(kvm, &range));
	kvm_mmu_check_range_unmapped(kvm, 3, 4, "punched_page_still_mapped");
	kvm_mmu_invalidate_end(kvm);
	sim_write_unlock(kvm->sched, &kvm->mmu_lock, "gmem.inval_mmu_unlock");
	ck_assert(sim_sched_failed(host->sched));
	ck_assert_ptr_nonnull(strstr(sim_log_text(host->log), "punched_page_still_mapped: vcpu0 "
				     "may still map gfn 0x3"));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

static Suite *
gmem_fault_suite(void)
{
	Suite *s = suite_create("gmem-fault");
	TCase *tc = tcase_create("attributes");

	tcase_add_test(tc, set_memory_attributes_refuses_bad_input);
	tcase_add_test(tc, setting_attributes_zaps_every_slot_inside_a_window_then_stores);
	tcase_add_test(tc, private_gfn_without_guest_memfd_is_a_memory_fault_exit);
	tcase_add_test(tc, gmem_only_slot_serves_shared_faults_from_the_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("races");
	tcase_add_loop_test(tc, punch_hole_racing_get_pfn_never_leaves_a_stale_private_spte, 0,
			    G_N_ELEMENTS(punch_races));
	tcase_add_test(tc, attribute_change_racing_a_private_fault_retries);
	tcase_add_test(tc, attribute_change_inside_the_window_at_the_locked_check_retries);
	tcase_add_test(tc, a_private_access_that_meets_a_shared_gfn_exits_to_userspace);
	tcase_add_test(tc, in_place_conversion_racing_a_private_fault_retries);
	tcase_add_test(tc, release_racing_a_fault_that_holds_the_file_waits_for_it);
	suite_add_tcase(s, tc);
	tc = tcase_create("invariants");
	tcase_add_test(tc, a_leaf_left_in_a_converted_range_is_reported);
	tcase_add_test(tc, an_unflushed_translation_of_a_zapped_page_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(gmem_fault_suite());
}
