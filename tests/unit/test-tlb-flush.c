/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TLB flush a vCPU serves for KVM_REQ_TLB_FLUSH (mmu/kvm.c kvm_vcpu_flush_tlb_all()): the
 * pages handed to the emulator's page flush must include every page whose SPTE changed since the
 * vCPU's last flush (zap, access tracking, write protection), and a whole flush must be done when
 * they are too many or a table entry changed. The engine side (the invlpg stub really drops those
 * pages) is in test-hw.c.
 */
#include "tests/check-run.h"
#include <string.h>

#include "tests/unit/harness.h"

#define MEM (1u << 20)

/* What the vCPUs' flushes asked the hardware for. */
static struct {
	guint whole;       /* flush_tlb_all() calls */
	guint paged;       /* flush_tlb_gfns() calls */
	gfn_t gfns[64];    /* the pages of the last flush_tlb_gfns() */
	guint n;
} hw;

/* Counts a whole flush. */
static void
record_flush_all(struct kvm_vcpu *vcpu)
{
	hw.whole++;
}

/* Nothing to load on the MMU model alone. */
static void
record_root_load(struct kvm_vcpu *vcpu, u64 root_pa)
{
}

/* Remembers the pages of a page flush. */
static void
record_flush_gfns(struct kvm_vcpu *vcpu, const gfn_t *gfns, guint n)
{
	ck_assert_uint_le(n, G_N_ELEMENTS(hw.gfns));
	hw.paged++;
	hw.n = n;
	for (guint i = 0; i < n; i++)
		hw.gfns[i] = gfns[i];
}

static const struct kvm_hw_ops paged_hw_ops = {
	.flush_tlb_all = record_flush_all,
	.load_mmu_pgd = record_root_load,
	.flush_tlb_gfns = record_flush_gfns,
};

/* A VM whose vCPUs flush through paged_hw_ops, with gfns [0, n) faulted in writable. */
static TestVm *
vm_with_pages(int vcpus, gfn_t n)
{
	TestVm *vm = test_vm_new(1, vcpus, MEM);

	vm->kvm->hw_ops = &paged_hw_ops;
	for (gfn_t gfn = 0; gfn < n; gfn++)
		ck_assert_int_eq(test_vm_fault(vm, 0, gfn << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	for (int i = 0; i < vcpus; i++)
		kvm_vcpu_enter_guest_prepare(vm->vcpu[i]);
	memset(&hw, 0, sizeof(hw));
	return vm;
}

/* Whether the last page flush named gfn. */
static gboolean
flushed(gfn_t gfn)
{
	for (guint i = 0; i < hw.n; i++)
		if (hw.gfns[i] == gfn)
			return TRUE;
	return FALSE;
}

START_TEST(flush_names_every_page_zapped_aged_or_write_protected_since_the_last)
{
	TestVm *vm = vm_with_pages(2, 8);
	guint young = 0;

	/* aging access-tracks gfn 2 and never flushes; the zap of gfn 1 does */
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + (2 << PAGE_SHIFT), SIM_PAGE_SIZE,
				    &young), 0);
	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva + (1 << PAGE_SHIFT), SIM_PAGE_SIZE),
			 0);
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.whole, 0);
	ck_assert_uint_eq(hw.paged, 1);
	ck_assert_uint_eq(hw.n, 2);
	ck_assert(flushed(1) && flushed(2));

	/* vCPU 1 flushes the same pages, and a second entry of vCPU 0 flushes nothing */
	kvm_vcpu_enter_guest_prepare(vm->vcpu[1]);
	ck_assert_uint_eq(hw.paged, 2);
	ck_assert(hw.n == 2 && flushed(1) && flushed(2));
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.paged, 2);

	/* write protection for dirty logging: every present leaf loses W (gfn 2 is still
	 * access-tracked, gfn 1 not present: neither changes) */
	struct kvm_userspace_memory_region2 region = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES, .guest_phys_addr = 0,
		.memory_size = vm->mem_size, .userspace_addr = vm->hva,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.whole, 0);
	ck_assert_uint_eq(hw.paged, 3);
	ck_assert_uint_eq(hw.n, 6);
	for (gfn_t gfn = 0; gfn < 8; gfn++)
		ck_assert(flushed(gfn) == (gfn != 1 && gfn != 2));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

START_TEST(flush_is_whole_past_sixteen_pages_or_when_the_log_wrapped)
{
	TestVm *vm = vm_with_pages(1, 20);

	/* seventeen zapped pages: too many to flush one by one */
	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva, 17 * SIM_PAGE_SIZE), 0);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.whole, 1);
	ck_assert_uint_eq(hw.paged, 0);

	/* sixteen are flushed one by one */
	for (gfn_t gfn = 0; gfn < 16; gfn++)
		ck_assert_int_eq(test_vm_fault(vm, 0, gfn << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva, 16 * SIM_PAGE_SIZE), 0);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.whole, 1);
	ck_assert_uint_eq(hw.paged, 1);
	ck_assert_uint_eq(hw.n, 16);

	/* the same eight pages aged nine times over (the fast path restoring them between):
	 * few pages, but more changes than the log holds */
	for (gfn_t gfn = 0; gfn < 8; gfn++)
		ck_assert_int_eq(test_vm_fault(vm, 0, gfn << PAGE_SHIFT, TRUE), RET_PF_FIXED);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	memset(&hw, 0, sizeof(hw));
	for (int round = 0; round < 9; round++) {
		ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva, 8 * SIM_PAGE_SIZE, NULL), 0);
		for (gpa_t gpa = 0; gpa < 8 * SIM_PAGE_SIZE; gpa += SIM_PAGE_SIZE)
			ck_assert_int_eq(test_vm_fault(vm, 0, gpa, TRUE), RET_PF_FIXED);
	}
	vm->vcpu[0]->requests |= 1ul << KVM_REQ_TLB_FLUSH;
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(hw.whole, 1);
	ck_assert_uint_eq(hw.paged, 0);
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

/* The entry invariant (mmu/kvm.c kvm_vcpu_check_entry(), run where sim_kvm_vmenter() lets the
 * guest run): a vCPU that enters with the zap's flush still pending, as the ASI entry path did
 * before vcpu_vmenter(), fails the run; once the request is served, the entry passes. */
START_TEST(entry_with_a_flush_due_is_reported)
{
	TestVm *vm = vm_with_pages(2, 4);

	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva + (1 << PAGE_SHIFT), SIM_PAGE_SIZE),
			 0);
	ck_assert(kvm_vcpu_flush_due(vm->vcpu[0]) && kvm_vcpu_flush_due(vm->vcpu[1]));
	kvm_vcpu_enter_guest_prepare(vm->vcpu[1]);
	ck_assert(!kvm_vcpu_flush_due(vm->vcpu[1]));
	kvm_vcpu_check_entry(vm->vcpu[1]);
	ck_assert(!sim_sched_failed(vm->host->sched));
	kvm_vcpu_check_entry(vm->vcpu[0]);
	ck_assert(sim_sched_failed(vm->host->sched));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched), "entry_with_flush_due"));
	test_vm_free(vm);
}
END_TEST

static Suite *
tlb_flush_suite(void)
{
	Suite *s = suite_create("tlb-flush");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, flush_names_every_page_zapped_aged_or_write_protected_since_the_last);
	tcase_add_test(tc, flush_is_whole_past_sixteen_pages_or_when_the_log_wrapped);
	tcase_add_test(tc, entry_with_a_flush_due_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(tlb_flush_suite());
}
