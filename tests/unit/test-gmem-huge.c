/* SPDX-License-Identifier: GPL-2.0-only */
/* PROPOSED HugeTLB guest_memfd folios (gmem/hugetlb.c) under the TDP MMU: 2M private leaves, a 4K
 * conversion splitting the folio and the leaf, the merge back, hole punches. */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "gmem/gmem.h"
#include "mmu/mmu-internal.h"
#include "sim/core/log.h"
#include "tests/unit/harness.h"

#define MEM (4u << 20)
#define HUGE_2M (GUEST_MEMFD_FLAG_HUGETLB | GUESTMEM_HUGETLB_FLAG_2MB)

typedef struct {
	TestMachine *host;
	struct kvm *kvm;
	struct kvm_vcpu *vcpu;
	int fd;
} Machine;

/* A SW-protected VM, in-place or legacy attributes, with [0, MEM) bound to a guest_memfd made
 * with gmem_flags (MMAP: a gmem-only slot). */
static Machine *
machine_new(gboolean in_place, u64 gmem_flags)
{
	Machine *m = g_new0(Machine, 1);
	GError *error = NULL;
	TestMachine *host = test_machine_new(1, 8192, MEM);
	const struct kvm_create_vm_args args = {
		.type = KVM_X86_SW_PROTECTED_VM, .gmem_attributes = in_place, .files = host->files,
	};
	guint64 hva;

	m->host = host;
	ck_assert_int_eq(kvm_create_vm_with(host->sched, host->hm, host->pool, host->mm,
					    &host->counters, &test_nop_hw_ops, &args, &m->kvm), 0);
	m->kvm->gmem_hugetlb = TRUE;
	m->vcpu = kvm_vm_ioctl_create_vcpu(m->kvm, 0, m);
	kvm_mmu_load(m->vcpu);
	const struct kvm_create_guest_memfd create = { .size = MEM, .flags = gmem_flags };

	m->fd = kvm_gmem_create(m->kvm, &create);
	ck_assert_int_ge(m->fd, 0);
	ck_assert(sim_mm_mmap_anon(m->host->mm, MEM, &hva, &error));
	struct kvm_userspace_memory_region2 region = {
		.flags = KVM_MEM_GUEST_MEMFD, .memory_size = MEM, .userspace_addr = hva,
		.guest_memfd = (u32)m->fd,
	};

	ck_assert_int_eq(kvm_set_memory_region(m->kvm, &region), 0);
	return m;
}

static void
machine_free(Machine *m)
{
	kvm_put_kvm(m->kvm);
	test_machine_free(m->host);
	g_free(m);
}

/* No invariant failed (else the first failure's log line is the message). */
static void
assert_invariants_hold(Machine *m)
{
	const char *bad = strstr(sim_log_text(m->host->log), "sim_invariant");

	ck_assert_msg(!sim_sched_failed(m->host->sched), "%.300s", bad ? bad : "?");
}

/* One EPT violation (the fault path decides private or shared from the attributes). */
static int
fault(Machine *m, gpa_t gpa, gboolean write)
{
	u64 qual = (write ? EPT_VIOLATION_ACC_WRITE : EPT_VIOLATION_ACC_READ) |
		   EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;

	kvm_vcpu_enter_guest_prepare(m->vcpu);
	kvm_vcpu_srcu_read_lock(m->vcpu);
	int r = kvm_handle_ept_violation(m->vcpu, gpa, qual, 0x100000);

	kvm_vcpu_srcu_read_unlock(m->vcpu);
	return r;
}

static int
level_of(Machine *m, gpa_t gpa)
{
	int level;

	kvm_tdp_mmu_leaf_spte(m->kvm, gpa >> PAGE_SHIFT, &level);
	return level;
}

/* In-place conversion of [gpa, gpa + size) (file offset = gpa). */
static int
convert(Machine *m, gpa_t gpa, u64 size, gboolean private)
{
	struct kvm_memory_attributes2 a = {
		.offset = gpa, .size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	return kvm_gmem_set_memory_attributes2(m->host->files, m->fd, &a);
}

START_TEST(hugetlb_flags_are_checked_at_creation)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP);
	struct kvm_create_guest_memfd c = { .size = MEM, .flags = HUGE_2M };

	/* v6.18 has no HugeTLB flag: only a kvmsim told to have the series accepts it */
	m->kvm->gmem_hugetlb = FALSE;
	ck_assert_int_eq(kvm_gmem_create(m->kvm, &c), -EINVAL);
	m->kvm->gmem_hugetlb = TRUE;
	c.flags = GUEST_MEMFD_FLAG_HUGETLB;

	/* no size, a size x86 has no page for, a size without the flag, a partial huge page */
	ck_assert_int_eq(kvm_gmem_create(m->kvm, &c), -EINVAL);
	c.flags = GUEST_MEMFD_FLAG_HUGETLB | (20ull << GUESTMEM_HUGETLB_FLAG_SHIFT);
	ck_assert_int_eq(kvm_gmem_create(m->kvm, &c), -EINVAL);
	c.flags = GUESTMEM_HUGETLB_FLAG_2MB;
	ck_assert_int_eq(kvm_gmem_create(m->kvm, &c), -EINVAL);
	c.flags = HUGE_2M;
	c.size = MEM + PAGE_SIZE;
	ck_assert_int_eq(kvm_gmem_create(m->kvm, &c), -EINVAL);
	c.size = 1ull << 30;
	c.flags = GUEST_MEMFD_FLAG_HUGETLB | GUESTMEM_HUGETLB_FLAG_1GB;
	ck_assert_int_ge(kvm_gmem_create(m->kvm, &c), 0);
	machine_free(m);
}
END_TEST

START_TEST(private_fault_on_a_huge_folio_maps_a_2m_leaf)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP | HUGE_2M);

	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_2M);
	SimPfn head = kvm_gmem_folio_pfn(m->host->files, m->fd, 0x200);

	ck_assert_uint_eq(head % 512, 0);
	ck_assert_uint_eq(kvm_gmem_folio_pfn(m->host->files, m->fd, 0x3ff), head + 511);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_ALLOCATED], 512);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_TDP_MMU_LEAVES_2M], 1);
	ck_assert_ptr_nonnull(strstr(sim_log_text(m->host->log),
				     "kvm_tdp_mmu_spte_changed: as id 0 gfn 200 "
				     "level 2 old_spte 8000000000000000"));
	machine_free(m);
}
END_TEST

START_TEST(a_4k_shared_conversion_splits_folio_and_leaf_and_converting_back_merges)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP | HUGE_2M);

	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	gsize from = strlen(sim_log_text(m->host->log));

	ck_assert_int_eq(convert(m, 0x205000, PAGE_SIZE, FALSE), 0);
	const char *log = sim_log_text(m->host->log) + from;

	/* the window covers the whole folio; the huge leaf goes whole */
	ck_assert_ptr_nonnull(strstr(log, "sim_invalidate_range_add: gfn 0x200-0x400"));
	ck_assert_ptr_nonnull(strstr(log, "gfn 200 level 2 old_spte 8"));
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_NONE);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_SPLIT], 1);
	/* private and shared pages of the split folio fault in at 4K, on the folio's frames */
	SimPfn head = kvm_gmem_folio_pfn(m->host->files, m->fd, 0x200);

	ck_assert_int_eq(fault(m, 0x206000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_4K);
	ck_assert_int_eq(fault(m, 0x205000, FALSE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_4K);
	ck_assert_uint_eq(spte_to_pfn(kvm_tdp_mmu_leaf_spte(m->kvm, 0x205, NULL)), head + 5);
	/* back to private: the folio is whole again, and so is the next mapping */
	ck_assert_int_eq(convert(m, 0x205000, PAGE_SIZE, TRUE), 0);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_MERGE], 1);
	ck_assert_int_eq(fault(m, 0x207000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_2M);
	assert_invariants_hold(m);
	machine_free(m);
}
END_TEST

START_TEST(a_pinned_page_keeps_the_folio_split)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP | HUGE_2M);

	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(convert(m, 0x205000, PAGE_SIZE, FALSE), 0);
	SimPfn pinned = kvm_gmem_folio_pfn(m->host->files, m->fd, 0x300);

	sim_frame_get(m->host->hm, pinned);
	ck_assert_int_eq(convert(m, 0x205000, PAGE_SIZE, TRUE), 0);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_MERGE], 0);
	ck_assert_int_eq(fault(m, 0x207000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x207000), PG_LEVEL_4K);
	sim_frame_put(m->host->hm, pinned);
	machine_free(m);
}
END_TEST

START_TEST(legacy_attributes_keep_the_folio_but_mixed_frames_map_4k)
{
	Machine *m = machine_new(FALSE, HUGE_2M);
	const struct kvm_memory_attributes all = {
		.address = 0, .size = MEM, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	const struct kvm_memory_attributes one = { .address = 0x205000, .size = PAGE_SIZE };

	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(m->kvm, &all), 0);
	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_2M);
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(m->kvm, &one), 0);
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_NONE);
	ck_assert_int_eq(fault(m, 0x206000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_4K);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_SPLIT], 0);
	machine_free(m);
}
END_TEST

START_TEST(punching_frees_whole_huge_folios_and_zeroes_partial_ones)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP | HUGE_2M);
	const guint8 byte = 0x5a;
	guint8 back = 0;

	ck_assert_int_eq(fault(m, 0x005000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	SimPfn low = kvm_gmem_folio_pfn(m->host->files, m->fd, 0x005);

	sim_frame_write(m->host->hm, low, 0, &byte, 1);
	ck_assert_int_eq(kvm_gmem_fallocate(m->host->files, m->fd, FALLOC_FL_KEEP_SIZE |
					    FALLOC_FL_PUNCH_HOLE, 0x5000, PAGE_SIZE), 0);
	ck_assert_uint_eq(kvm_gmem_folio_pfn(m->host->files, m->fd, 0x005), low);
	sim_frame_read(m->host->hm, low, 0, &back, 1);
	ck_assert_uint_eq(back, 0);
	ck_assert_int_eq(kvm_gmem_fallocate(m->host->files, m->fd, FALLOC_FL_KEEP_SIZE |
					    FALLOC_FL_PUNCH_HOLE, 0x200000, 0x200000), 0);
	ck_assert_uint_eq(kvm_gmem_folio_pfn(m->host->files, m->fd, 0x205), SIM_PFN_NONE);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_FREED], 512);
	assert_invariants_hold(m);
	machine_free(m);
}
END_TEST

/* A 4K punch on a HugeTLB inode opens its window over the whole folio: a fault on another gfn
 * of it inside the window must retry, not map a 2M leaf over the page being punched (private
 * legacy, seed 13 of the private workload with 512 pages: punched_page_still_mapped). */
START_TEST(a_4k_punch_invalidates_the_whole_huge_folio)
{
	Machine *m = machine_new(FALSE, HUGE_2M);
	const struct kvm_memory_attributes all = {
		.address = 0, .size = MEM, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};

	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(m->kvm, &all), 0);
	ck_assert_int_eq(fault(m, 0x206000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_2M);
	gsize from = strlen(sim_log_text(m->host->log));

	ck_assert_int_eq(kvm_gmem_fallocate(m->host->files, m->fd, FALLOC_FL_KEEP_SIZE |
					    FALLOC_FL_PUNCH_HOLE, 0x205000, PAGE_SIZE), 0);
	ck_assert_ptr_nonnull(strstr(sim_log_text(m->host->log) + from,
				     "sim_invalidate_range_add: gfn 0x200-0x400"));
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_NONE);
	/* the folio stays whole (a partial punch zeroes): the next fault maps it huge again */
	ck_assert_int_eq(fault(m, 0x206000, FALSE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_2M);
	assert_invariants_hold(m);
	machine_free(m);
}
END_TEST

/* A page prepared alone (a partial punch zeroes it) must not let KVM map its unsplit folio huge
 * over pages never prepared: they are prepared first, never later over what the guest wrote
 * (first seen in-place with the VMM's pin of a page made shared before the folio existed, which
 * now splits the folio at allocation). */
START_TEST(a_huge_mapping_prepares_the_whole_folio_first)
{
	Machine *m = machine_new(FALSE, HUGE_2M);
	const struct kvm_memory_attributes all = {
		.address = 0, .size = MEM, .attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	const struct kvm_memory_attributes one = { .address = 0x205000, .size = PAGE_SIZE };
	guint8 byte = 0x5a, back = 0;

	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(m->kvm, &all), 0);
	ck_assert_int_eq(kvm_gmem_fallocate(m->host->files, m->fd, FALLOC_FL_KEEP_SIZE, 0x200000,
					    0x200000), 0);
	ck_assert_int_eq(kvm_gmem_fallocate(m->host->files, m->fd, FALLOC_FL_KEEP_SIZE |
					    FALLOC_FL_PUNCH_HOLE, 0x201000, PAGE_SIZE), 0);
	ck_assert_int_eq(fault(m, 0x201000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x202000), PG_LEVEL_2M);
	/* the guest writes gfn 0x202 through the huge leaf */
	SimPfn pfn = kvm_gmem_folio_pfn(m->host->files, m->fd, 0x202);

	sim_frame_write(m->host->hm, pfn, 8, &byte, 1);
	/* a 4K conversion elsewhere in the frame zaps the leaf; gfn 0x202 refaults at 4K */
	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(m->kvm, &one), 0);
	ck_assert_int_eq(fault(m, 0x202000, FALSE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x202000), PG_LEVEL_4K);
	sim_frame_read(m->host->hm, pfn, 8, &back, 1);
	ck_assert_uint_eq(back, byte);
	assert_invariants_hold(m);
	machine_free(m);
}
END_TEST

/* A huge folio allocated where a page is already shared is split at once (the series'
 * kvm_gmem_try_split_folio_in_filemap()): shared pages are never mapped huge. */
START_TEST(a_folio_allocated_over_shared_pages_is_split)
{
	Machine *m = machine_new(TRUE, GUEST_MEMFD_FLAG_MMAP | HUGE_2M);

	ck_assert_int_eq(convert(m, 0x201000, PAGE_SIZE, FALSE), 0);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_SPLIT], 0);
	ck_assert_int_eq(fault(m, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_SPLIT], 1);
	ck_assert_int_eq(level_of(m, 0x205000), PG_LEVEL_4K);
	ck_assert_int_eq(convert(m, 0x201000, PAGE_SIZE, TRUE), 0);
	ck_assert_uint_eq(m->host->counters.v[SIM_CTR_GMEM_HUGE_MERGE], 1);
	ck_assert_int_eq(fault(m, 0x206000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(level_of(m, 0x206000), PG_LEVEL_2M);
	assert_invariants_hold(m);
	machine_free(m);
}
END_TEST

static Suite *
gmem_huge_suite(void)
{
	Suite *s = suite_create("gmem-huge");
	TCase *tc = tcase_create("hugetlb");

	tcase_add_test(tc, hugetlb_flags_are_checked_at_creation);
	tcase_add_test(tc, private_fault_on_a_huge_folio_maps_a_2m_leaf);
	tcase_add_test(tc, a_4k_shared_conversion_splits_folio_and_leaf_and_converting_back_merges);
	tcase_add_test(tc, a_pinned_page_keeps_the_folio_split);
	tcase_add_test(tc, legacy_attributes_keep_the_folio_but_mixed_frames_map_4k);
	tcase_add_test(tc, punching_frees_whole_huge_folios_and_zeroes_partial_ones);
	tcase_add_test(tc, a_4k_punch_invalidates_the_whole_huge_folio);
	tcase_add_test(tc, a_huge_mapping_prepares_the_whole_folio_first);
	tcase_add_test(tc, a_folio_allocated_over_shared_pages_is_split);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(gmem_huge_suite());
}
