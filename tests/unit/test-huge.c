/* SPDX-License-Identifier: GPL-2.0-only */
/* Huge pages: lpage_info, kvm_mmu_hugepage_adjust()'s decisions, 2M TDP leaves, and the host's
 * transparent huge pages (split, migration) with the notifiers they fire. */
#include "tests/check-run.h"
#include <string.h>

#include "mmu/mmu-internal.h"
#include "tests/unit/harness.h"

#define MEM (4u << 20)
#define HPAGE (2ull << 20)

/* A VM whose guest RAM is madvise(MADV_HUGEPAGE)d (or not). */
static TestVm *
huge_vm(gboolean thp)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	if (thp)
		ck_assert_int_eq(sim_mm_madvise_hugepage(vm->host->mm, vm->hva, MEM), 0);
	return vm;
}

/* The leaf SPTE for gpa and its level. */
static u64
leaf(TestVm *vm, gpa_t gpa, int *level)
{
	return kvm_tdp_mmu_leaf_spte(vm->kvm, gpa >> PAGE_SHIFT, level);
}

/* The log written since offset `from`. */
static const char *
log_since(TestVm *vm, gsize from)
{
	return sim_log_text(vm->host->log) + from;
}

START_TEST(lpage_info_disallows_head_tail_and_misaligned_hva)
{
	TestVm *vm = huge_vm(FALSE);
	struct kvm_memory_slot a = { .base_gfn = 0x10, .npages = 0x800,
				     .userspace_addr = 0x7f0000010000ull };
	struct kvm_memory_slot b = { .base_gfn = 0x200, .npages = 0x400,
				     .userspace_addr = 0x7f0000201000ull };
	struct kvm_memory_slot c = { .base_gfn = 0x200, .npages = 0x400,
				     .userspace_addr = 0x7f0000200000ull };

	kvm_alloc_memslot_metadata(vm->kvm, &a);
	kvm_alloc_memslot_metadata(vm->kvm, &b);
	kvm_alloc_memslot_metadata(vm->kvm, &c);
	/* a: gfns 0x10-0x80f touch 2M frames 0, 0x200, 0x400, 0x600, 0x800 */
	ck_assert_uint_eq(lpage_info_slot(0x10, &a, PG_LEVEL_2M)->disallow_lpage, 1);
	ck_assert_uint_eq(lpage_info_slot(0x200, &a, PG_LEVEL_2M)->disallow_lpage, 0);
	ck_assert_uint_eq(lpage_info_slot(0x600, &a, PG_LEVEL_2M)->disallow_lpage, 0);
	ck_assert_uint_eq(lpage_info_slot(0x80f, &a, PG_LEVEL_2M)->disallow_lpage, 1);
	ck_assert_uint_eq(lpage_info_slot(0x10, &a, PG_LEVEL_1G)->disallow_lpage, 1);
	/* b: gfn and hva one page apart modulo 2M: no frame can be huge */
	ck_assert_uint_eq(lpage_info_slot(0x200, &b, PG_LEVEL_2M)->disallow_lpage, 1);
	ck_assert_uint_eq(lpage_info_slot(0x400, &b, PG_LEVEL_2M)->disallow_lpage, 1);
	/* c: aligned, two whole 2M frames; no whole 1G frame */
	ck_assert_uint_eq(lpage_info_slot(0x200, &c, PG_LEVEL_2M)->disallow_lpage, 0);
	ck_assert_uint_eq(lpage_info_slot(0x5ff, &c, PG_LEVEL_2M)->disallow_lpage, 0);
	ck_assert_uint_eq(lpage_info_slot(0x200, &c, PG_LEVEL_1G)->disallow_lpage, 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(thp_backed_fault_maps_a_2m_leaf_with_every_page_resident)
{
	TestVm *vm = huge_vm(TRUE);
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	u64 spte = leaf(vm, 0x3ff000, &level);
	SimPfn head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);

	ck_assert_int_eq(level, PG_LEVEL_2M);
	ck_assert(is_large_pte(spte));
	ck_assert_uint_eq(head % 512, 0);
	ck_assert_uint_eq(spte_to_pfn(spte), head);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + 0x205000), head + 5);
	for (guint64 i = 0; i < 512; i++)
		ck_assert_uint_eq(sim_hostmem_resident(vm->host->hm, 0x200000 + i * PAGE_SIZE), head + i);
	const char *log = sim_log_text(vm->host->log);
	g_autofree gchar *req = g_strdup_printf("kvm_mmu_spte_requested: gfn 205 pfn %"
						G_GINT64_MODIFIER "x level 2\n", head + 5);
	g_autofree gchar *chg = g_strdup_printf("kvm_tdp_mmu_spte_changed: as id 0 gfn 200 level 2 "
						"old_spte 8000000000000000 new_spte 8610%012"
						G_GINT64_MODIFIER "x\n", (head << 12) | 0xbf7);

	ck_assert_ptr_nonnull(strstr(log, req));
	ck_assert_ptr_nonnull(strstr(log, chg));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_FAULT_ALLOC], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TDP_MMU_LEAVES_2M], 1);
	/* the reference faultin took on the 4K page was dropped */
	ck_assert_uint_eq(sim_frame_refs(vm->host->hm, head + 5), 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(without_thp_or_with_dirty_logging_the_fault_maps_4k)
{
	TestVm *vm = huge_vm(FALSE);
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	leaf(vm, 0x205000, &level);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TDP_MMU_LEAVES_2M], 0);
	test_vm_free(vm);

	vm = huge_vm(TRUE);
	struct kvm_userspace_memory_region2 region = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES, .memory_size = MEM,
		.userspace_addr = vm->hva,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	leaf(vm, 0x205000, &level);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	/* the host still maps a THP: only KVM's decision differs */
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + 0x205000), 2);
	test_vm_free(vm);
}
END_TEST

/* Make the harness's VM one with private memory, as KVM_X86_SW_PROTECTED_VM is created. */
static void
make_private_capable(TestVm *vm)
{
	vm->kvm->vm_type = KVM_X86_SW_PROTECTED_VM;
	vm->kvm->has_private_mem = TRUE;
}

/* KVM_SET_MEMORY_ATTRIBUTES over [start, end) gfns: private or shared. */
static void
set_attrs(TestVm *vm, gfn_t start, gfn_t end, gboolean private)
{
	struct kvm_memory_attributes a = {
		.address = start << PAGE_SHIFT,
		.size = (end - start) << PAGE_SHIFT,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	ck_assert_int_eq(kvm_vm_ioctl_set_mem_attributes(vm->kvm, &a), 0);
}

START_TEST(mixed_attributes_force_4k_until_the_frame_is_uniform_again)
{
	TestVm *vm = huge_vm(TRUE);
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vm->kvm, 0);
	int level;

	make_private_capable(vm);
	set_attrs(vm, 0x205, 0x206, TRUE);
	ck_assert(lpage_info_slot(0x200, slot, PG_LEVEL_2M)->disallow_lpage & KVM_LPAGE_MIXED_FLAG);
	ck_assert(!(lpage_info_slot(0x0, slot, PG_LEVEL_2M)->disallow_lpage & KVM_LPAGE_MIXED_FLAG));
	/* a shared fault elsewhere in the mixed frame: the host has a THP, KVM maps 4K */
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x300000, TRUE), RET_PF_FIXED);
	leaf(vm, 0x300000, &level);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + 0x300000), 2);
	/* back to shared: the frame is uniform, the next fault in it goes huge, replacing the
	 * table that holds the 4K leaf (removed, its leaf frozen) and flushing */
	set_attrs(vm, 0x205, 0x206, FALSE);
	ck_assert_uint_eq(lpage_info_slot(0x200, slot, PG_LEVEL_2M)->disallow_lpage, 0);
	gsize from = strlen(sim_log_text(vm->host->log));
	guint64 flushes = vm->host->counters.v[SIM_CTR_TLB_FLUSHES];

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x301000, TRUE), RET_PF_FIXED);
	leaf(vm, 0x300000, &level);
	ck_assert_int_eq(level, PG_LEVEL_2M);
	ck_assert_ptr_nonnull(strstr(log_since(vm, from), "kvm_mmu_prepare_zap_page: sp gen 0 "
							   "gfn 200 l1 "));
	ck_assert_ptr_nonnull(strstr(log_since(vm, from), "gfn 300 level 1 old_spte 8610"));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TLB_FLUSHES], flushes + 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(attribute_change_widens_the_invalidation_to_huge_head_and_tail_frames)
{
	TestVm *vm = huge_vm(TRUE);
	struct kvm_gfn_range range = {
		.slot = kvm_id_to_memslot(vm->kvm, 0),
		.start = 0x205,
		.end = 0x206,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
		.may_block = TRUE,
	};

	make_private_capable(vm);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x300000, TRUE), RET_PF_FIXED);
	sim_write_lock(vm->host->sched, &vm->kvm->mmu_lock, "attr.mmu_lock");
	kvm_mmu_invalidate_begin(vm->kvm);
	kvm_mmu_invalidate_range_add(vm->kvm, range.start, range.end);
	/* the 2M frame is not mixed yet: it joins the invalidation; its huge leaf is zapped */
	ck_assert(kvm_arch_pre_set_memory_attributes(vm->kvm, &range));
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_range_start, 0x200);
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_range_end, 0x400);
	ck_assert_uint_eq(range.attr_filter, KVM_FILTER_SHARED);
	ck_assert_uint_eq(leaf(vm, 0x300000, NULL), SHADOW_NONPRESENT_VALUE);
	kvm_flush_remote_tlbs(vm->kvm);
	kvm_mmu_invalidate_end(vm->kvm);
	sim_write_unlock(vm->host->sched, &vm->kvm->mmu_lock, "attr.mmu_unlock");
	test_vm_free(vm);
}
END_TEST

START_TEST(partial_invalidation_zaps_the_whole_2m_leaf)
{
	TestVm *vm = huge_vm(TRUE);

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	SimPfn head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);
	gsize from = strlen(sim_log_text(vm->host->log));

	sim_mm_notify_invalidate_start(vm->host->mm, vm->hva + 0x3ff000, vm->hva + 0x400000);
	ck_assert(strstr(log_since(vm, from), "gfn 200 level 2 old_spte 8610"));
	ck_assert(strstr(log_since(vm, from), "new_spte 8000000000000000\n"));
	ck_assert_uint_eq(leaf(vm, 0x205000, NULL), SHADOW_NONPRESENT_VALUE);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TDP_MMU_HUGE_ZAPPED], 1);
	/* every 4K translation of the leaf may live on in the vCPU's TLB until it flushes */
	ck_assert_uint_eq(vm->vcpu[0]->stale_tlb->len, 512);
	ck_assert_uint_eq(g_array_index(vm->vcpu[0]->stale_tlb, struct kvm_stale_tlb_entry, 7).pfn,
			  head + 7);
	sim_mm_notify_invalidate_end(vm->host->mm, vm->hva + 0x3ff000, vm->hva + 0x400000);
	test_vm_free(vm);
}
END_TEST

/* A notifier that records the ranges it is told about: "s:START-END" and "e:START-END". */
typedef struct {
	guint64 base;
	GString *calls;
} Recorder;

static void
rec_start(gpointer data, guint64 start, guint64 end)
{
	Recorder *r = data;

	g_string_append_printf(r->calls, "s:%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ",
			       start - r->base, end - r->base);
}

static void
rec_end(gpointer data, guint64 start, guint64 end)
{
	Recorder *r = data;

	g_string_append_printf(r->calls, "e:%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ",
			       start - r->base, end - r->base);
}

static gboolean
rec_young(gpointer data, guint64 start, guint64 end)
{
	Recorder *r = data;

	g_string_append_printf(r->calls, "y:%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ",
			       start - r->base, end - r->base);
	return FALSE;
}

static gboolean
rec_test_young(gpointer data, guint64 hva)
{
	return FALSE;
}

static const SimMmuNotifierOps recorder_ops = { rec_start, rec_end, rec_young, rec_test_young };

/* Run one host operation on the page at gpa as the actor "host". */
static int
host_op(TestVm *vm, TestHostOp op, gpa_t gpa)
{
	TestHost h = { vm, op, gpa, -1 };

	sim_actor_new(vm->host->sched, "host", test_host_actor, &h);
	test_vm_run_steps(vm, "host:exit");
	return h.result;
}

START_TEST(dontneed_of_one_page_splits_the_pmd_under_a_2m_notifier)
{
	TestVm *vm = huge_vm(TRUE);
	Recorder rec = { vm->hva, g_string_new(NULL) };
	int level;

	sim_mm_register_notifier(vm->host->mm, &recorder_ops, &rec);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	SimPfn head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);

	ck_assert_int_eq(host_op(vm, TEST_HOST_DONTNEED, 0x205000), 0);
	/* the dontneed's own window holds the split's, over the whole 2 MiB */
	ck_assert_str_eq(rec.calls->str, "s:205000-206000 s:200000-400000 e:200000-400000 "
					 "e:205000-206000 ");
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PMD], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PAGE], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TDP_MMU_HUGE_ZAPPED], 1);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + 0x206000), 1);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + 0x206000), head + 6);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + 0x205000), SIM_PFN_NONE);
	ck_assert(!sim_frame_allocated(vm->host->hm, head + 5));
	/* the rest of the folio refaults at 4K, on the same frames */
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x206000, FALSE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(leaf(vm, 0x206000, &level)), head + 6);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert(!sim_sched_failed(vm->host->sched));
	g_string_free(rec.calls, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(migrating_a_page_of_a_thp_moves_the_whole_folio_under_one_2m_notifier)
{
	TestVm *vm = huge_vm(TRUE);
	Recorder rec = { vm->hva, g_string_new(NULL) };
	const guint8 pattern[4] = { 1, 2, 3, 4 };
	guint8 back[4];

	sim_mm_register_notifier(vm->host->mm, &recorder_ops, &rec);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	SimPfn head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);

	sim_frame_write(vm->host->hm, head + 300, 8, pattern, sizeof(pattern));
	ck_assert_int_eq(host_op(vm, TEST_HOST_MIGRATE, 0x205000), 0);
	ck_assert_str_eq(rec.calls->str, "s:200000-400000 e:200000-400000 ");
	SimPfn new_head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);

	ck_assert_uint_ne(new_head, head);
	ck_assert_uint_eq(new_head % 512, 0);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + 0x3ff000), new_head + 511);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + 0x205000), 2);
	sim_frame_read(vm->host->hm, new_head + 300, 8, back, sizeof(back));
	ck_assert_mem_eq(back, pattern, sizeof(pattern));
	ck_assert(!sim_frame_allocated(vm->host->hm, head));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_MIGRATION], 1);
	ck_assert_uint_eq(leaf(vm, 0x205000, NULL), SHADOW_NONPRESENT_VALUE);
	ck_assert(!sim_sched_failed(vm->host->sched));
	g_string_free(rec.calls, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(migrating_a_thp_page_without_a_free_huge_folio_splits_it_first)
{
	TestVm *vm = huge_vm(TRUE);
	Recorder rec = { vm->hva, g_string_new(NULL) };

	sim_mm_register_notifier(vm->host->mm, &recorder_ops, &rec);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	SimPfn head = sim_mm_lookup(vm->host->mm, vm->hva + 0x200000);

	/* no aligned run of 512 frames is left, one single frame is */
	SimPfn run, last = SIM_PFN_NONE;

	while ((run = sim_frame_alloc_contig(vm->host->hm, 512)) != SIM_PFN_NONE)
		last = run;
	ck_assert_uint_ne(last, SIM_PFN_NONE);
	sim_frame_free(vm->host->hm, last);
	ck_assert_int_eq(host_op(vm, TEST_HOST_MIGRATE, 0x205000), 0);
	ck_assert_str_eq(rec.calls->str, "s:200000-400000 e:200000-400000 s:205000-206000 "
					 "e:205000-206000 ");
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PMD], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_MIGRATION], 0);
	ck_assert_uint_ne(sim_mm_lookup(vm->host->mm, vm->hva + 0x205000), head + 5);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + 0x206000), head + 6);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + 0x206000), 1);
	ck_assert(!sim_sched_failed(vm->host->sched));
	g_string_free(rec.calls, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(aging_a_page_of_a_thp_ages_the_whole_pmd)
{
	TestVm *vm = huge_vm(TRUE);
	Recorder rec = { vm->hva, g_string_new(NULL) };

	sim_mm_register_notifier(vm->host->mm, &recorder_ops, &rec);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(host_op(vm, TEST_HOST_AGE, 0x205000), 0);
	ck_assert_str_eq(rec.calls->str, "y:200000-400000 ");
	/* a page outside the aged range lost its young bit with its PMD, in the host and in KVM */
	ck_assert(!sim_mm_test_young(vm->host->mm, vm->hva + 0x3ff000));
	ck_assert(is_access_track_spte(leaf(vm, 0x3ff000, NULL)));
	g_string_free(rec.calls, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(fault_below_a_huge_leaf_splits_it_in_place_without_a_zap)
{
	TestVm *vm = huge_vm(TRUE);
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vm->kvm, 0);
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	u64 huge = leaf(vm, 0x205000, NULL);

	/* the frame may no longer be huge (as after an attribute change) while its leaf stays:
	 * a read of a present page takes the slow path, whose goal is now 4K */
	lpage_info_slot(0x200, slot, PG_LEVEL_2M)->disallow_lpage |= KVM_LPAGE_MIXED_FLAG;
	gsize from = strlen(sim_log_text(vm->host->log));
	guint64 zaps = vm->host->counters.v[SIM_CTR_ZAPS];

	kvm_vcpu_srcu_read_lock(vm->vcpu[0]);
	int r = kvm_handle_ept_violation(vm->vcpu[0], 0x207000,
					 EPT_VIOLATION_ACC_READ | EPT_VIOLATION_PROT_READ, 0);

	kvm_vcpu_srcu_read_unlock(vm->vcpu[0]);
	ck_assert_int_eq(r, RET_PF_SPURIOUS);
	g_autofree gchar *split = g_strdup_printf("kvm_mmu_split_huge_page: gfn 200 spte %"
						  G_GINT64_MODIFIER "x level 2 errno 0\n", huge);

	ck_assert_ptr_nonnull(strstr(log_since(vm, from), split));
	u64 small = leaf(vm, 0x207000, &level);

	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_uint_eq(small, (huge & ~PT_PAGE_SIZE_MASK) + (7ull << PAGE_SHIFT));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TDP_MMU_HUGE_SPLIT], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_ZAPS], zaps);
	ck_assert_uint_eq(vm->vcpu[0]->stale_tlb->len, 0);
	test_vm_free(vm);
}
END_TEST

/* One EPT violation of vCPU 0 at gpa; qual the exit qualification's access bits. */
static int
ept_violation(TestVm *vm, gpa_t gpa, u64 qual)
{
	kvm_vcpu_srcu_read_lock(vm->vcpu[0]);
	int r = kvm_handle_ept_violation(vm->vcpu[0], gpa, qual, 0);

	kvm_vcpu_srcu_read_unlock(vm->vcpu[0]);
	return r;
}

START_TEST(nx_mitigation_maps_exec_4k_until_recovery_lets_the_frame_go_huge)
{
	TestVm *vm = huge_vm(TRUE);
	int level;

	vm->kvm->nx_huge_pages = TRUE;
	/* an exec fault where a 2M page could go maps 4K, executable, and tracks the table */
	ck_assert_int_eq(ept_violation(vm, 0x205000, EPT_VIOLATION_ACC_INSTR), RET_PF_FIXED);
	ck_assert(is_executable_pte(leaf(vm, 0x205000, &level)));
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 1);
	/* a read next to it keeps to 4K too (disallowed_hugepage_adjust()) */
	ck_assert_int_eq(ept_violation(vm, 0x207000, EPT_VIOLATION_ACC_READ), RET_PF_FIXED);
	leaf(vm, 0x207000, &level);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	/* the worker zaps the table and flushes; the frame then maps 2M, not executable */
	vm->vcpu[0]->requests = 0;
	kvm_nx_huge_page_recovery_worker(vm->kvm);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 0);
	ck_assert(!is_shadow_present_pte(leaf(vm, 0x205000, NULL)));
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	ck_assert_int_eq(ept_violation(vm, 0x207000, EPT_VIOLATION_ACC_READ), RET_PF_FIXED);
	u64 huge = leaf(vm, 0x207000, &level);

	ck_assert_int_eq(level, PG_LEVEL_2M);
	ck_assert(!is_executable_pte(huge));
	/* executing from it splits it: the 4K pages are executable again, the table tracked */
	ck_assert_int_eq(ept_violation(vm, 0x205000, EPT_VIOLATION_ACC_INSTR |
				       EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_WRITE),
			 RET_PF_SPURIOUS);
	ck_assert(is_executable_pte(leaf(vm, 0x205000, &level)));
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 1);
	test_vm_free(vm);
}
END_TEST

/* In a slot that logs dirty pages recovery only unaccounts a tracked page: its table stays, to
 * be recovered with the slot's other huge pages when logging ends
 * (kvm_mmu_sp_dirty_logging_enabled()). */
START_TEST(nx_recovery_leaves_the_tables_of_a_dirty_logging_slot_mapped)
{
	TestVm *vm = huge_vm(TRUE);
	struct kvm_userspace_memory_region2 region = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES, .memory_size = MEM,
		.userspace_addr = vm->hva,
	};

	vm->kvm->nx_huge_pages = TRUE;
	ck_assert_int_eq(ept_violation(vm, 0x205000, EPT_VIOLATION_ACC_INSTR), RET_PF_FIXED);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 1);
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 1);
	kvm_nx_huge_page_recovery_worker(vm->kvm);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 0);
	ck_assert(is_shadow_present_pte(leaf(vm, 0x205000, NULL)));
	test_vm_free(vm);
}
END_TEST

START_TEST(without_the_nx_mitigation_an_exec_fault_maps_huge_and_recovery_does_nothing)
{
	TestVm *vm = huge_vm(TRUE);
	int level;

	ck_assert_int_eq(ept_violation(vm, 0x205000, EPT_VIOLATION_ACC_INSTR), RET_PF_FIXED);
	ck_assert(is_executable_pte(leaf(vm, 0x205000, &level)));
	ck_assert_int_eq(level, PG_LEVEL_2M);
	ck_assert_uint_eq(vm->kvm->possible_nx_huge_pages->len, 0);
	kvm_nx_huge_page_recovery_worker(vm->kvm);
	ck_assert(is_shadow_present_pte(leaf(vm, 0x205000, NULL)));
	test_vm_free(vm);
}
END_TEST

/* 4K leaves at gfns 0x205 and 0x207 under a table in the THP-backed 2M frame 0x200 (mixed
 * attributes force 4K), the flag cleared again, and a stale translation of gfn 5 left by an
 * earlier zap: the frame's next fault replaces the table with a 2M leaf. */
static TestVm *
table_then_huge_vm(SimMutations mutations)
{
	TestVm *vm = huge_vm(TRUE);
	struct kvm_memory_slot *slot = kvm_id_to_memslot(vm->kvm, 0);

	vm->kvm->hv_tlb_flush = TRUE;
	vm->kvm->mutations = mutations;
	lpage_info_slot(0x200, slot, PG_LEVEL_2M)->disallow_lpage |= KVM_LPAGE_MIXED_FLAG;
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x207000, TRUE), RET_PF_FIXED);
	lpage_info_slot(0x200, slot, PG_LEVEL_2M)->disallow_lpage &= ~KVM_LPAGE_MIXED_FLAG;
	kvm_record_stale_translation(vm->kvm, 0x5, 0x1234);
	vm->vcpu[0]->requests = 0;
	return vm;
}

/* gfn of every stale translation vCPU 0 holds, as "0x5 0x205 ..." */
static gchar *
stale_gfns(TestVm *vm)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < vm->vcpu[0]->stale_tlb->len; i++)
		g_string_append_printf(s, "%s0x%" G_GINT64_MODIFIER "x", i ? " " : "",
				       g_array_index(vm->vcpu[0]->stale_tlb,
						     struct kvm_stale_tlb_entry, i).gfn);
	return g_string_free(s, FALSE);
}

START_TEST(hypervisor_ranged_flush_drops_only_the_replaced_tables_range)
{
	TestVm *vm = table_then_huge_vm(0);
	gsize from = strlen(sim_log_text(vm->host->log));
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x206000, FALSE), RET_PF_FIXED);
	leaf(vm, 0x206000, &level);
	ck_assert_int_eq(level, PG_LEVEL_2M);
	ck_assert_ptr_nonnull(strstr(log_since(vm, from), "sim_hv_flush_remote_tlbs: gfn 0x200 "
				     "pages 0x200 on 1 vcpus"));
	/* no request: the hypervisor flushed at once; gfn 5's translation is outside the range */
	ck_assert_uint_eq(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH), 0);
	g_autofree gchar *left = stale_gfns(vm);

	ck_assert_str_eq(left, "0x5");
	ck_assert_uint_eq(vm->vcpu[0]->stale_tables->len, 0);
	/* a whole flush through the hypervisor drops everything, still without a request */
	kvm_flush_remote_tlbs(vm->kvm);
	ck_assert_uint_eq(vm->vcpu[0]->stale_tlb->len, 0);
	ck_assert_uint_eq(vm->vcpu[0]->requests, 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(before_574c3c55e969_the_ranged_flush_starts_at_the_tables_last_entry)
{
	TestVm *vm = table_then_huge_vm(SIM_MUTATION_BIT(SIM_MUT_PRE_574C3C55E969));
	gsize from = strlen(sim_log_text(vm->host->log));

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x206000, FALSE), RET_PF_FIXED);
	ck_assert_ptr_nonnull(strstr(log_since(vm, from), "sim_hv_flush_remote_tlbs: gfn 0x3ff "
				     "pages 0x200 on 1 vcpus"));
	/* the 4K translations of the table stay; the table itself is dropped (0x3ff is in it) */
	g_autofree gchar *left = stale_gfns(vm);

	ck_assert_ptr_nonnull(strstr(left, "0x205"));
	ck_assert_ptr_nonnull(strstr(left, "0x207"));
	ck_assert_uint_eq(vm->vcpu[0]->stale_tables->len, 0);
	test_vm_free(vm);
}
END_TEST

/* A ranged flush forgets only what it flushed: with the table of gfns 0x200-0x3ff unlinked
 * (as a zap records it) and vCPU 0's only zapped translation (gfn 5) flushed by a ranged flush of
 * [0, 0x200), the table and the writable translation of gfn 0x205 stay, so freeing the table is
 * still caught. Before the fix, emptying the zapped translations forgot both. */
START_TEST(hypervisor_ranged_flush_keeps_tables_and_writable_entries_outside_its_range)
{
	TestVm *vm = table_then_huge_vm(0);
	struct kvm_vcpu *vcpu = vm->vcpu[0];
	u64 spte;
	int walked;
	u64 *sptep = tdp_walk_last(vm->kvm->pt_pool, vcpu->root, 0x205, &spte, &walked);
	struct kvm_mmu_page *sp = sptep_to_sp(vm->kvm, sptep);

	ck_assert_int_eq(walked, PG_LEVEL_4K);
	ck_assert(kvm_vcpu_guest_write(vcpu, 0x205000));
	ck_assert_uint_eq(vcpu->tlb_writable->len, 1);
	kvm_record_stale_table(vm->kvm, sp);
	kvm_flush_remote_tlbs_range(vm->kvm, 0, 0x200);
	ck_assert_uint_eq(vcpu->stale_tlb->len, 0);
	ck_assert_uint_eq(vcpu->stale_tables->len, 1);
	ck_assert_uint_eq(vcpu->tlb_writable->len, 1);
	ck_assert_ptr_null(strstr(sim_log_text(vm->host->log), "freed_table_still_cached"));
	kvm_check_freed_table(vm->kvm, sp);
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log),
				     "sim_invariant: freed_table_still_cached: the level-1 table for "
				     "gfn 0x200 is freed while vcpu0 may still cache it"));
	/* a flush of the table's range forgets it and the writable translation */
	kvm_flush_remote_tlbs_range(vm->kvm, 0x200, 0x200);
	ck_assert_uint_eq(vcpu->tlb_writable->len, 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(max_level_for_order)
{
	ck_assert_int_eq(kvm_max_level_for_order(0), PG_LEVEL_4K);
	ck_assert_int_eq(kvm_max_level_for_order(9), PG_LEVEL_2M);
	ck_assert_int_eq(kvm_max_level_for_order(18), PG_LEVEL_1G);
}
END_TEST

static Suite *
huge_suite(void)
{
	Suite *s = suite_create("huge");
	TCase *tc = tcase_create("adjust");

	tcase_add_test(tc, lpage_info_disallows_head_tail_and_misaligned_hva);
	tcase_add_test(tc, thp_backed_fault_maps_a_2m_leaf_with_every_page_resident);
	tcase_add_test(tc, without_thp_or_with_dirty_logging_the_fault_maps_4k);
	tcase_add_test(tc, mixed_attributes_force_4k_until_the_frame_is_uniform_again);
	tcase_add_test(tc, attribute_change_widens_the_invalidation_to_huge_head_and_tail_frames);
	tcase_add_test(tc, max_level_for_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("leaves");
	tcase_add_test(tc, partial_invalidation_zaps_the_whole_2m_leaf);
	tcase_add_test(tc, fault_below_a_huge_leaf_splits_it_in_place_without_a_zap);
	suite_add_tcase(s, tc);

	tc = tcase_create("nx");
	tcase_add_test(tc, nx_mitigation_maps_exec_4k_until_recovery_lets_the_frame_go_huge);
	tcase_add_test(tc, nx_recovery_leaves_the_tables_of_a_dirty_logging_slot_mapped);
	tcase_add_test(tc,
		       without_the_nx_mitigation_an_exec_fault_maps_huge_and_recovery_does_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("hv-flush");
	tcase_add_test(tc, hypervisor_ranged_flush_drops_only_the_replaced_tables_range);
	tcase_add_test(tc, before_574c3c55e969_the_ranged_flush_starts_at_the_tables_last_entry);
	tcase_add_test(tc,
		       hypervisor_ranged_flush_keeps_tables_and_writable_entries_outside_its_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("thp");
	tcase_add_test(tc, dontneed_of_one_page_splits_the_pmd_under_a_2m_notifier);
	tcase_add_test(tc, migrating_a_page_of_a_thp_moves_the_whole_folio_under_one_2m_notifier);
	tcase_add_test(tc, migrating_a_thp_page_without_a_free_huge_folio_splits_it_first);
	tcase_add_test(tc, aging_a_page_of_a_thp_ages_the_whole_pmd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(huge_suite());
}
