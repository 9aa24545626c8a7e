/* SPDX-License-Identifier: GPL-2.0-only */
/* Dirty logging (mmu/dirty_log.c) and the CPU's A/D assist, driven on the MMU model alone. */
#include "tests/check-run.h"
#include <string.h>

#include "tests/unit/harness.h"

#define MEM (1u << 20)
#define GFN 5ull

/* The leaf SPTE of gfn in the VM's valid root. */
static u64
leaf(TestVm *vm, gfn_t gfn)
{
	int level;

	return kvm_tdp_mmu_leaf_spte(vm->kvm, gfn, &level);
}

/* KVM_SET_USER_MEMORY_REGION2 of slot 0 with flags (a FLAGS_ONLY change). */
static void
set_flags(TestVm *vm, u32 flags)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.flags = flags,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = vm->hva,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
}

/* Enter (serving requests) and store to gpa: TRUE if the store went through. */
static gboolean
guest_write(TestVm *vm, int vcpu, gpa_t gpa)
{
	kvm_vcpu_enter_guest_prepare(vm->vcpu[vcpu]);
	return kvm_vcpu_guest_write(vm->vcpu[vcpu], gpa);
}

/* Store to gpa, taking the EPT violation and entering again if it faults. */
static void
guest_write_faulting(TestVm *vm, int vcpu, gpa_t gpa)
{
	if (!guest_write(vm, vcpu, gpa)) {
		ck_assert_int_eq(test_vm_fault(vm, vcpu, gpa, TRUE), RET_PF_FIXED);
		ck_assert(guest_write(vm, vcpu, gpa));
	}
}

/* Is gfn set in the bitmap KVM_GET_DIRTY_LOG returns? */
static gboolean
bit(const gulong *bitmap, gfn_t gfn)
{
	return (bitmap[gfn / (8 * sizeof(gulong))] >> (gfn % (8 * sizeof(gulong)))) & 1;
}

/* A one-vCPU VM logging slot 0 whose vCPU stored to GFN (W restored), with no request due. */
static TestVm *
vm_with_a_dirty_gfn(void)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	ck_assert(is_writable_pte(leaf(vm, GFN)));
	vm->vcpu[0]->requests = 0;
	return vm;
}

/* A harvest took GFN: its SPTE lost W again and vCPU 0 has a TLB flush due. */
static void
assert_harvested(TestVm *vm)
{
	ck_assert(!is_writable_pte(leaf(vm, GFN)));
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
}

START_TEST(enabling_logging_write_protects_the_slot_and_flushes)
{
	TestVm *vm = test_vm_new(1, 2, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	ck_assert(is_writable_pte(leaf(vm, GFN)));
	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	u64 spte = leaf(vm, GFN);

	/* write-protected for dirty logging: W gone, MMU-writable kept for the fast path */
	ck_assert(is_shadow_present_pte(spte));
	ck_assert(!is_writable_pte(spte));
	ck_assert(is_mmu_writable_spte(spte));
	for (int i = 0; i < 2; i++)
		ck_assert(vm->vcpu[i]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	ck_assert_int_eq(vm->kvm->nr_dirty_log_slots, 1);
	/* nothing written since: the first harvest is empty */
	g_autofree gulong *bitmap = g_new0(gulong, kvm_dirty_bitmap_words(MEM >> PAGE_SHIFT));

	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(!bit(bitmap, GFN));
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 1, bitmap), -ENOENT);
	set_flags(vm, 0);
	ck_assert_int_eq(vm->kvm->nr_dirty_log_slots, 0);
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), -ENOENT);
	test_vm_free(vm);
}
END_TEST

START_TEST(fast_path_restores_w_and_marks_the_gfn_dirty)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	guint64 fast = vm->host->counters.v[SIM_CTR_FAULTS_FAST];

	/* the flush at enable empties the TLB: the store faults, the fast path sets W */
	ck_assert(!guest_write(vm, 0, GFN << PAGE_SHIFT));
	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_FAULTS_FAST], fast + 1);
	ck_assert(is_writable_pte(leaf(vm, GFN)));
	ck_assert(strstr(sim_log_text(vm->host->log), "sim_mark_page_dirty: slot 0 gfn 0x5"));
	ck_assert(guest_write(vm, 0, GFN << PAGE_SHIFT));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

START_TEST(get_dirty_log_returns_clears_and_write_protects_again)
{
	TestVm *vm = vm_with_a_dirty_gfn();
	g_autofree gulong *bitmap = g_new0(gulong, kvm_dirty_bitmap_words(MEM >> PAGE_SHIFT));

	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(bit(bitmap, GFN));
	ck_assert(!bit(bitmap, GFN + 1));
	assert_harvested(vm);
	/* harvested: the next GET is empty, and the next store faults and marks again */
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(!bit(bitmap, GFN));
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(bit(bitmap, GFN));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

/* KVM_CLEAR_DIRTY_LOG with bitmap harvests GFN (a later GET no longer reports it); frees vm. */
static void
assert_clear_harvests(TestVm *vm, gulong *bitmap)
{
	ck_assert_int_eq(kvm_vm_ioctl_clear_dirty_log(vm->kvm, 0, bitmap), 0);
	assert_harvested(vm);
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(!bit(bitmap, GFN));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}

/* KVM_CLEAR_DIRTY_LOG does not need manual protect (kvm_clear_dirty_log_protect() never
 * checks it): it clears the bits asked for and write-protects their gfns (before the fix,
 * -EINVAL). */
START_TEST(clear_without_manual_protect_clears_and_write_protects)
{
	TestVm *vm = vm_with_a_dirty_gfn();
	g_autofree gulong *bitmap = g_new0(gulong, kvm_dirty_bitmap_words(MEM >> PAGE_SHIFT));

	bitmap[0] = 1ul << GFN;
	assert_clear_harvests(vm, bitmap);
}
END_TEST

/* A KVM_CLEAR_DIRTY_LOG bitmap may hold bits past the slot's last page (the kernel's
 * kvm_clear_dirty_log_protect() takes only those within it): a 16-page slot cleared with a
 * whole word of ones harvests its dirty gfn and marks nothing past its end (before the fix, a
 * heap overflow that ASan reports). */
START_TEST(clear_with_bits_past_the_slot_touches_only_the_slot)
{
	TestVm *vm = test_vm_new(1, 1, 16 * PAGE_SIZE);
	gulong bitmap[1] = { ~0ul };

	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	vm->vcpu[0]->requests = 0;
	assert_clear_harvests(vm, bitmap);
}
END_TEST

/* On Hyper-V, kvm_flush_remote_tlbs_memslot() flushes the slot's range, not everything: both
 * when logging starts and after a harvest (before the fix, the whole address space). */
START_TEST(dirty_log_flushes_are_ranged_to_the_slot)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	g_autofree gulong *bitmap = g_new0(gulong, kvm_dirty_bitmap_words(MEM >> PAGE_SHIFT));
	const char *ranged = "sim_hv_flush_remote_tlbs: gfn 0x0 pages 0x100 on 1 vcpus";

	vm->kvm->hv_tlb_flush = TRUE;
	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	gsize from = strlen(sim_log_text(vm->host->log));

	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log) + from, ranged));
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	from = strlen(sim_log_text(vm->host->log));
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(bit(bitmap, GFN));
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log) + from, ranged));
	ck_assert_ptr_null(strstr(sim_log_text(vm->host->log), "pages 0xffffffffffffffff"));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

/* kvm_mmu_slot_apply_flags() leaves a read-only slot alone: logging on it neither
 * write-protects nor flushes (before the fix, it flushed every vCPU). */
START_TEST(logging_on_a_read_only_slot_does_not_flush)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	struct kvm_userspace_memory_region2 region = {
		.slot = 0, .memory_size = 0, .userspace_addr = vm->hva,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	region.memory_size = vm->mem_size;
	region.flags = KVM_MEM_READONLY;
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, FALSE), RET_PF_FIXED);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(vm->vcpu[0]->requests, 0);
	set_flags(vm, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES);
	ck_assert_int_eq(vm->kvm->nr_dirty_log_slots, 1);
	ck_assert_uint_eq(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH), 0);
	ck_assert(is_shadow_present_pte(leaf(vm, GFN)));
	test_vm_free(vm);
}
END_TEST

START_TEST(manual_protect_gets_a_copy_and_clear_write_protects)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	g_autofree gulong *bitmap = g_new0(gulong, kvm_dirty_bitmap_words(MEM >> PAGE_SHIFT));

	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	kvm_vm_ioctl_enable_manual_dirty_log_protect(vm->kvm);
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	/* GET only copies: the bit stays, the SPTE stays writable */
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(bit(bitmap, GFN));
	ck_assert(is_writable_pte(leaf(vm, GFN)));
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(bit(bitmap, GFN));
	/* CLEAR of what GET returned: bit cleared, gfn write-protected, TLBs flushed */
	ck_assert_int_eq(kvm_vm_ioctl_clear_dirty_log(vm->kvm, 0, bitmap), 0);
	assert_harvested(vm);
	ck_assert_int_eq(kvm_vm_ioctl_get_dirty_log(vm->kvm, 0, bitmap), 0);
	ck_assert(!bit(bitmap, GFN));
	test_vm_free(vm);
}
END_TEST

/* Aging leaves a writable TLB entry behind an access-tracked SPTE; enabling logging must flush
 * it (b64d740ea7dd), or the store through it escapes the log (dirty_log_missed_write). */
static gboolean
store_after_aging_escapes(SimMutations mutations)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	gboolean failed;

	vm->kvm->mutations = mutations;
	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + (GFN << PAGE_SHIFT), PAGE_SIZE, NULL),
			 0);
	ck_assert(is_access_track_spte(leaf(vm, GFN)));
	set_flags(vm, KVM_MEM_LOG_DIRTY_PAGES);
	if (!guest_write(vm, 0, GFN << PAGE_SHIFT))
		ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	failed = sim_sched_failed(vm->host->sched);
	if (failed)
		ck_assert(strstr(sim_log_text(vm->host->log),
				 "sim_invariant: dirty_log_missed_write: vcpu0 wrote gfn 0x5 through "
				 "its TLB"));
	test_vm_free(vm);
	return failed;
}

START_TEST(a_stale_writable_tlb_entry_is_flushed_when_logging_starts)
{
	ck_assert(!store_after_aging_escapes(0));
	ck_assert(store_after_aging_escapes(SIM_MUTATION_BIT(SIM_MUT_PRE_B64D740EA7DD)));
}
END_TEST

START_TEST(cpu_sets_accessed_and_dirty_with_ept_ad)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	vm->kvm->ept_ad = TRUE;
	ck_assert_int_eq(test_vm_fault(vm, 0, GFN << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	u64 spte = leaf(vm, GFN);

	ck_assert(spte_ad_enabled(spte));
	ck_assert(spte & shadow_accessed_mask);
	/* aging with A/D bits on clears Accessed only: the SPTE stays present and writable */
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + (GFN << PAGE_SHIFT), PAGE_SIZE, NULL),
			 0);
	spte = leaf(vm, GFN);
	ck_assert(!(spte & shadow_accessed_mask));
	ck_assert(is_writable_pte(spte) && !is_access_track_spte(spte));
	/* the store walks the tables: the CPU sets Accessed (and Dirty) itself, no exit */
	vm->vcpu[0]->requests |= 1ul << KVM_REQ_TLB_FLUSH;
	ck_assert(guest_write(vm, 0, GFN << PAGE_SHIFT));
	spte = leaf(vm, GFN);
	ck_assert((spte & (shadow_accessed_mask | shadow_dirty_mask)) ==
		  (shadow_accessed_mask | shadow_dirty_mask));
	ck_assert(strstr(sim_log_text(vm->host->log), "sim_hw_set_ad: vcpu 0 gfn 0x5 level 1"));
	/* a not-present fault is never fast with A/D bits on: nothing is access-tracked */
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_FAULTS_FAST], 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(without_ept_ad_the_cpu_sets_no_spte_bit)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	guest_write_faulting(vm, 0, GFN << PAGE_SHIFT);
	u64 before = leaf(vm, GFN);

	ck_assert(!spte_ad_enabled(before));
	vm->vcpu[0]->requests |= 1ul << KVM_REQ_TLB_FLUSH;
	ck_assert(guest_write(vm, 0, GFN << PAGE_SHIFT));
	ck_assert_uint_eq(leaf(vm, GFN), before);
	ck_assert(!strstr(sim_log_text(vm->host->log), "sim_hw_set_ad"));
	test_vm_free(vm);
}
END_TEST

static Suite *
dirty_log_suite(void)
{
	Suite *s = suite_create("dirty-log");
	TCase *tc = tcase_create("dirty-log");

	tcase_add_test(tc, enabling_logging_write_protects_the_slot_and_flushes);
	tcase_add_test(tc, fast_path_restores_w_and_marks_the_gfn_dirty);
	tcase_add_test(tc, get_dirty_log_returns_clears_and_write_protects_again);
	tcase_add_test(tc, manual_protect_gets_a_copy_and_clear_write_protects);
	tcase_add_test(tc, dirty_log_flushes_are_ranged_to_the_slot);
	tcase_add_test(tc, clear_without_manual_protect_clears_and_write_protects);
	tcase_add_test(tc, clear_with_bits_past_the_slot_touches_only_the_slot);
	tcase_add_test(tc, logging_on_a_read_only_slot_does_not_flush);
	tcase_add_test(tc, a_stale_writable_tlb_entry_is_flushed_when_logging_starts);
	suite_add_tcase(s, tc);

	tc = tcase_create("ept-ad");
	tcase_add_test(tc, cpu_sets_accessed_and_dirty_with_ept_ad);
	tcase_add_test(tc, without_ept_ad_the_cpu_sets_no_spte_bit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(dirty_log_suite());
}
