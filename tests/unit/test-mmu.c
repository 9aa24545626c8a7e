/* SPDX-License-Identifier: GPL-2.0-only */
/* The MMU model: the TDP MMU, and the fault path racing invalidations. */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "mmu/mmu-internal.h"
#include "tests/unit/harness.h"

#define MEM (1u << 20)
#define GPA_A 0x5000ull
#define GPA_B 0x9000ull

START_TEST(first_fault_installs_one_writable_4k_leaf)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	u64 spte = kvm_tdp_mmu_leaf_spte(vm->kvm, GPA_A >> PAGE_SHIFT, &level);

	ck_assert(is_shadow_present_pte(spte) && is_writable_pte(spte));
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert_uint_eq(spte_to_pfn(spte), sim_mm_lookup(vm->host->mm, vm->hva + GPA_A));
	ck_assert_uint_eq(kvm_tdp_mmu_count_present(vm->kvm), 1);
	/* the frame's content now lives in the GPA page */
	ck_assert_uint_eq(sim_hostmem_resident(vm->host->hm, GPA_A), spte_to_pfn(spte));
	const char *log = sim_log_text(vm->host->log);

	ck_assert_ptr_nonnull(strstr(log, "kvm_page_fault: vcpu 0 rip 0x100000 address "
					  "0x0000000000005000 error_code 0x182"));
	ck_assert_ptr_nonnull(strstr(log, "kvm_mmu_spte_requested: gfn 5 pfn"));
	ck_assert_ptr_nonnull(strstr(log, "kvm_tdp_mmu_spte_changed: as id 0 gfn 5 level 1 old_spte "
					  "8000000000000000"));
	ck_assert_ptr_nonnull(strstr(log, "kvm_mmu_set_spte: gfn 5"));
	test_vm_free(vm);
}
END_TEST

START_TEST(a_remembered_walk_is_not_reused_once_an_spte_was_written)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	int level;

	/* the CPU's walk finds nothing; the fault installs the leaf; the next walk sees it */
	ck_assert(!is_shadow_present_pte(kvm_tdp_mmu_get_walk_last(vm->vcpu[0], GPA_A, &level)));
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	u64 spte = kvm_tdp_mmu_get_walk_last(vm->vcpu[0], GPA_A, &level);

	ck_assert(is_shadow_present_pte(spte) && is_writable_pte(spte));
	ck_assert_int_eq(level, PG_LEVEL_4K);
	/* the fast path reuses that walk: the leaf is there, the fault is spurious */
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, FALSE), RET_PF_SPURIOUS);
	test_vm_free(vm);
}
END_TEST

START_TEST(fault_on_a_present_spte_is_spurious_on_the_fast_path)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, FALSE), RET_PF_SPURIOUS);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_FAULTS_FAST], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(zap_clears_the_leaf_keeps_the_tables_and_requests_a_flush)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	guint tables = sim_ptpool_in_use(vm->host->pool);

	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva + GPA_A, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(test_vm_spte(vm, GPA_A), SHADOW_NONPRESENT_VALUE);
	ck_assert_uint_eq(sim_ptpool_in_use(vm->host->pool), tables);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_ZAPS], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_INVALIDATIONS], 1);
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, 1);
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	ck_assert_uint_eq(vm->flushes[0], 1);
	ck_assert_uint_eq(vm->vcpu[0]->stale_tlb->len, 0);
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

START_TEST(invalidation_outside_every_memslot_skips_begin_and_end)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	guint64 other;

	ck_assert(sim_mm_mmap_anon(vm->host->mm, SIM_PAGE_SIZE, &other, NULL));
	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, other, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, 0);
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log), "kvm_unmap_hva_range"));
	ck_assert_ptr_null(strstr(sim_log_text(vm->host->log), "sim_invalidate_begin"));
	test_vm_free(vm);
}
END_TEST

/* One row per yield point of the fault path: what the kernel does when an invalidation of the
 * faulting gfn runs there. */
static const struct {
	const char *point;
	int expected;
	gboolean present_after; /* FALSE: retried, or installed then zapped */
	gboolean installed_then_zapped;
} fault_points[] = {
	{ "fault.seq_snapshot", RET_PF_FIXED, TRUE, FALSE },
	{ "gup.mmap_lock", RET_PF_RETRY, FALSE, FALSE },
	{ "gup.ptl", RET_PF_RETRY, FALSE, FALSE },
	{ "gup.ptl_unlock", RET_PF_RETRY, FALSE, FALSE },
	{ "gup.mmap_unlock", RET_PF_RETRY, FALSE, FALSE },
	{ "fault.pfn_resolved", RET_PF_RETRY, FALSE, FALSE },
	{ "fault.mmu_lock", RET_PF_RETRY, FALSE, FALSE },
	{ "fault.spte_install", RET_PF_FIXED, FALSE, TRUE },
	{ "fault.mmu_unlock", RET_PF_FIXED, FALSE, TRUE },
};

START_TEST(invalidation_at_each_fault_yield_point_gives_the_kernel_outcome)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_A, -1 };
	const char *point = fault_points[_i].point;

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	g_autofree gchar *steps =
		fault_points[_i].installed_then_zapped && strcmp(point, "fault.spte_install") == 0 ?
			g_strdup_printf("vcpu0:%s,notifier:invalidate.mmu_lock,vcpu0:exit,"
					"notifier:exit", point) :
			g_strdup_printf("vcpu0:%s,notifier:exit,vcpu0:exit", point);
	test_vm_run_steps(vm, steps);
	ck_assert_msg(f.result == fault_points[_i].expected, "%s: got %s", point,
		      ret_pf_name(f.result));
	ck_assert_int_eq(h.result, 0);
	ck_assert_int_eq(is_shadow_present_pte(test_vm_spte(vm, GPA_A)),
			 fault_points[_i].present_after);
	if (fault_points[_i].installed_then_zapped)
		ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_ZAPS], 1);
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

START_TEST(unrelated_invalidation_in_progress_does_not_force_a_retry)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_B, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	/* the notifier stops between range_start and range_end: in progress, for GPA_B only */
	test_vm_run_steps(vm, "notifier:invalidate.end,vcpu0:exit,notifier:exit");
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert(is_shadow_present_pte(test_vm_spte(vm, GPA_A)));
	test_vm_free(vm);
}
END_TEST

START_TEST(snapshot_during_a_covering_invalidation_retries_early)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_A, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	test_vm_run_steps(vm, "notifier:invalidate.end,vcpu0:exit,notifier:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_UNSAFE], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(covering_invalidation_in_progress_at_the_locked_check_forces_a_retry)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_A, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	test_vm_run_steps(vm, "vcpu0:fault.mmu_lock,notifier:invalidate.end,vcpu0:exit,notifier:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_IN_PROGRESS], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_SEQ_CHANGED], 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(completed_unrelated_invalidation_after_the_snapshot_forces_a_retry)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_B, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	test_vm_run_steps(vm, "vcpu0:fault.mmu_lock,notifier:exit,vcpu0:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_SEQ_CHANGED], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(two_vcpus_racing_on_one_gfn_install_exactly_one_spte)
{
	TestVm *vm = test_vm_new(1, 2, MEM);
	TestFault f0 = { vm, 0, GPA_A, TRUE, -1 }, f1 = { vm, 1, GPA_A, TRUE, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f0);
	sim_actor_new(vm->host->sched, "vcpu1", test_fault_actor, &f1);
	test_vm_run_steps(vm, "vcpu0:fault.spte_install,vcpu1:exit,vcpu0:exit");
	ck_assert_int_eq(f1.result, RET_PF_FIXED);
	ck_assert_int_eq(f0.result, RET_PF_RETRY);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_SPTE_CMPXCHG_LOST], 1);
	ck_assert_uint_eq(kvm_tdp_mmu_count_present(vm->kvm), 1);
	/* exactly one kvm_mmu_set_spte */
	const char *log = sim_log_text(vm->host->log);
	const char *first = strstr(log, "kvm_mmu_set_spte");

	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "kvm_mmu_set_spte"));
	test_vm_free(vm);
}
END_TEST

START_TEST(a_vcpu_that_finds_the_spte_installed_under_the_lock_is_spurious)
{
	TestVm *vm = test_vm_new(1, 2, MEM);
	TestFault f0 = { vm, 0, GPA_A, TRUE, -1 }, f1 = { vm, 1, GPA_A, TRUE, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f0);
	sim_actor_new(vm->host->sched, "vcpu1", test_fault_actor, &f1);
	test_vm_run_steps(vm, "vcpu0:fault.mmu_lock,vcpu1:exit,vcpu0:exit");
	ck_assert_int_eq(f1.result, RET_PF_FIXED);
	ck_assert_int_eq(f0.result, RET_PF_SPURIOUS);
	ck_assert_uint_eq(kvm_tdp_mmu_count_present(vm->kvm), 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(migration_zaps_and_the_refault_maps_the_new_frame_with_the_same_content)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	guint64 pattern = 0x1122334455667788ull, got = 0;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	kvm_pfn_t old_pfn = spte_to_pfn(test_vm_spte(vm, GPA_A));

	memcpy(sim_hostmem_gpa_ptr(vm->host->hm, GPA_A + 8), &pattern, 8); /* a guest store */
	ck_assert_int_eq(sim_mm_migrate_page(vm->host->mm, vm->hva + GPA_A), 0);
	ck_assert_uint_eq(test_vm_spte(vm, GPA_A), SHADOW_NONPRESENT_VALUE);
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, FALSE), RET_PF_FIXED);
	kvm_pfn_t new_pfn = spte_to_pfn(test_vm_spte(vm, GPA_A));

	ck_assert_uint_ne(new_pfn, old_pfn);
	memcpy(&got, sim_hostmem_gpa_ptr(vm->host->hm, GPA_A + 8), 8);
	ck_assert_uint_eq(got, pattern);
	ck_assert(!sim_frame_allocated(vm->host->hm, old_pfn));
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

START_TEST(migration_of_a_page_pinned_by_an_inflight_fault_fails_busy)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_MIGRATE, GPA_A, -1 };

	/* a first touch: GUP brings the page in and pins it until the fault finishes */
	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	test_vm_run_steps(vm, "vcpu0:fault.pfn_resolved,notifier:exit,vcpu0:exit");
	ck_assert_int_eq(h.result, -EAGAIN);
	ck_assert_int_eq(f.result, RET_PF_RETRY); /* the failed migration still invalidated */
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_MIGRATE_BUSY], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(fault_on_a_page_under_migration_waits_for_the_new_frame)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, TEST_HOST_MIGRATE, GPA_A, -1 };

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	kvm_pfn_t old_pfn = spte_to_pfn(test_vm_spte(vm, GPA_A));

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	/* the PTE is a migration entry while the notifier copies; vcpu0 then blocks in GUP */
	test_vm_run_steps(vm, "notifier:migrate.copy,vcpu0:gup.mmap_lock");
	ck_assert_int_eq(h.result, 0);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_GUP_WAITED_MIGRATION], 1);
	/* it snapshotted after the migration's invalidation ended: nothing to retry for */
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert_uint_ne(spte_to_pfn(test_vm_spte(vm, GPA_A)), old_pfn);
	ck_assert_uint_eq(spte_to_pfn(test_vm_spte(vm, GPA_A)),
			  sim_mm_lookup(vm->host->mm, vm->hva + GPA_A));
	test_vm_free(vm);
}
END_TEST

/* A rogue actor that frees the frame behind gpa at once: a primary MMU that forgot to wait. */
static void
free_frame_actor(SimActor *actor, gpointer data)
{
	TestVm *vm = ((TestHost *)data)->vm;

	sim_frame_free(vm->host->hm, sim_mm_lookup(vm->host->mm, vm->hva + ((TestHost *)data)->gpa));
}

START_TEST(freeing_a_frame_before_the_tlb_flush_is_caught)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestHost h = { vm, TEST_HOST_DONTNEED, GPA_A, -1 };
	TestHost rogue = { vm, TEST_HOST_DONTNEED, GPA_A, -1 };

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	sim_actor_new(vm->host->sched, "notifier", test_host_actor, &h);
	sim_actor_new(vm->host->sched, "rogue", free_frame_actor, &rogue);
	/* zapped, not yet flushed: vcpu0's TLB may still hold the translation */
	test_vm_run_steps(vm, "notifier:zap.spte_cleared,rogue:exit,notifier:exit");
	ck_assert(sim_sched_failed(vm->host->sched));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched), "freed_frame_still_mapped"));
	test_vm_free(vm);
}
END_TEST

START_TEST(freeing_a_frame_an_spte_still_maps_is_caught)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	/* a host that drops its page without telling KVM */
	sim_frame_free(vm->host->hm, sim_mm_lookup(vm->host->mm, vm->hva + GPA_A));
	ck_assert(sim_sched_failed(vm->host->sched));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched), "freed_frame_mapped_by_spte"));
	test_vm_free(vm);
}
END_TEST

/* A leaf rewritten to a frame the primary MMU does not map at its hva (no frame freed, no
 * invalidation: the audit may look only at the SPTEs written since its last walk), and the same
 * once more SPTEs were written than its log holds (it walks every table again). */
static void
audit_catches_a_leaf_written_to_another_frame(guint writes_between)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	guint64 epoch = G_MAXUINT64;
	u64 spte_a, spte_b;
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert(kvm_mmu_audit(vm->kvm, &epoch));
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_B, TRUE), RET_PF_FIXED);
	ck_assert(kvm_mmu_audit(vm->kvm, &epoch));
	u64 *sptep_a = tdp_walk_last(vm->kvm->pt_pool, vm->vcpu[0]->root, GPA_A >> PAGE_SHIFT,
				     &spte_a, &level);
	u64 *sptep_b = tdp_walk_last(vm->kvm->pt_pool, vm->vcpu[0]->root, GPA_B >> PAGE_SHIFT,
				     &spte_b, &level);

	for (guint i = 0; i < writes_between; i++)
		kvm_tdp_mmu_write_spte(sptep_a, spte_a, spte_a, PG_LEVEL_4K);
	ck_assert(kvm_mmu_audit(vm->kvm, &epoch));
	ck_assert(!sim_sched_failed(vm->host->sched));
	/* gfn 9 now maps gfn 5's frame */
	kvm_tdp_mmu_write_spte(sptep_b, spte_b, spte_a, PG_LEVEL_4K);
	ck_assert(!kvm_mmu_audit(vm->kvm, &epoch));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched), "spte_matches_primary"));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched), "gfn 0x9 maps pfn"));
	kvm_tdp_mmu_write_spte(sptep_b, spte_a, spte_b, PG_LEVEL_4K);
	test_vm_free(vm);
}

START_TEST(audit_of_the_spte_writes_since_its_last_walk_catches_a_wrong_leaf)
{
	audit_catches_a_leaf_written_to_another_frame(3);
}
END_TEST

START_TEST(audit_walks_every_table_again_once_its_spte_log_overflowed)
{
	audit_catches_a_leaf_written_to_another_frame(TDP_MMU_SPTE_LOG + 1);
}
END_TEST

START_TEST(aging_access_tracks_the_spte_and_the_fast_path_restores_it)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	guint young = 0;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + GPA_A, SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 2); /* young in the host PTE and in KVM */
	u64 spte = kvm_tdp_mmu_leaf_spte(vm->kvm, GPA_A >> PAGE_SHIFT, NULL);

	ck_assert(is_access_track_spte(spte));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_TLB_FLUSHES], 0); /* aging never flushes on x86 */
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_FAULTS_FAST], 1);
	spte = kvm_tdp_mmu_leaf_spte(vm->kvm, GPA_A >> PAGE_SHIFT, NULL);
	ck_assert(!is_access_track_spte(spte) && is_writable_pte(spte));
	ck_assert(sim_mm_test_young(vm->host->mm, vm->hva + GPA_A));
	test_vm_free(vm);
}
END_TEST

/* A VMM actor deleting memslot 0. */
static void
delete_slot_actor(SimActor *actor, gpointer data)
{
	TestHost *h = data;
	struct kvm_userspace_memory_region2 region = { .slot = 0, .memory_size = 0 };

	h->result = kvm_set_memory_region(h->vm->kvm, &region);
}

START_TEST(memslot_delete_waits_for_the_inflight_fault_then_zaps_its_spte)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, 0, 0, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "vmm", delete_slot_actor, &h);
	test_vm_run_steps(vm, "vcpu0:fault.pfn_resolved,vmm:memslot.synchronize_srcu,vcpu0:exit,"
			      "vmm:exit");
	ck_assert_int_eq(h.result, 0);
	ck_assert_int_eq(f.result, RET_PF_FIXED); /* it used the old, valid slot */
	ck_assert_uint_eq(test_vm_spte(vm, GPA_A), SHADOW_NONPRESENT_VALUE);
	ck_assert_ptr_null(kvm_id_to_memslot(vm->kvm, 0));
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, 0); /* not an mmu_invalidate event */
	test_vm_free(vm);
}
END_TEST

START_TEST(vm_destroyed_with_the_vmm_abandoned_in_synchronize_srcu_frees_both_generations)
{
	guint live_before = kvm_memslots_live();
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, 0, 0, -1 };
	const SimStep steps[] = {
		{ "vcpu0", "fault.pfn_resolved", 1 }, /* inside the SRCU read side */
		{ "vmm", SIM_POINT_BLOCK, 1 },        /* published, waits for vcpu0 to leave */
		{ "vcpu0", "never", 1 },              /* breaks the schedule: the vmm is abandoned */
	};
	g_autoptr(GError) error = NULL;

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "vmm", delete_slot_actor, &h);
	sim_sched_set_steps(vm->host->sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(vm->host->sched, &error));
	ck_assert_int_eq(h.result, -1); /* the ioctl never returned */
	ck_assert_ptr_nonnull(vm->kvm->memslots_swapping[1]);
	ck_assert_uint_gt(kvm_memslots_live(), live_before);
	test_vm_free(vm);
	/* both generations the swap held are freed (LeakSanitizer checks the same, in ./test's
	 * sanitize suite) */
	ck_assert_uint_eq(kvm_memslots_live(), live_before);
}
END_TEST

START_TEST(memslot_ending_above_the_48_bit_reach_is_refused)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	struct kvm_userspace_memory_region2 region = {
		.slot = 5,
		.guest_phys_addr = (1ull << 48) - 0x1000,
		.memory_size = 0x2000,
		.userspace_addr = 0x7f1000000000,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), -EINVAL);
	ck_assert_ptr_null(kvm_id_to_memslot(vm->kvm, 5));
	region.memory_size = 0x1000; /* its last gfn is kvm_mmu_max_gfn() itself */
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert_ptr_nonnull(kvm_id_to_memslot(vm->kvm, 5));
	test_vm_free(vm);
}
END_TEST

/*
 * KVM lets two memslots share a host range; kvmsim refuses it (aliases_other()): a frame's
 * content lives in one GPA page at a time (sim/core/hostmem.h). (The vCPUs' engines map hostmem's
 * RAM windows, not memslots, so a memslot alias would never be an engine alias either;
 * sim/cpu/hw-notdirty.c.) Moving or deleting the slot is still allowed.
 */
START_TEST(memslot_aliasing_another_host_range_is_refused)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	struct kvm_userspace_memory_region2 region = {
		.slot = 5,
		.guest_phys_addr = 1ull << 32,
		.memory_size = 0x1000,
		.userspace_addr = vm->hva + MEM - 0x1000,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), -EINVAL);
	ck_assert_ptr_null(kvm_id_to_memslot(vm->kvm, 5));
	region.userspace_addr = vm->hva + MEM;
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(memslot_delete_with_the_slot_zap_quirk_gives_every_vcpu_a_new_root)
{
	TestVm *vm = test_vm_new(1, 2, MEM);
	struct kvm_userspace_memory_region2 region = { .slot = 0, .memory_size = 0 };
	guint tables = sim_ptpool_in_use(vm->host->pool);

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	u64 old_root = kvm_mmu_root_pa(vm->vcpu[0]);

	ck_assert(vm->kvm->slot_zap_all);
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	/* the old root is invalid and zapped; both vCPUs must drop it before they enter again */
	ck_assert(!kvm_mmu_root_valid(vm->vcpu[0]));
	ck_assert(vm->vcpu[1]->requests & (1ul << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS));
	ck_assert_uint_eq(vm->kvm->mmu_invalidate_seq, 0);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[0]);
	kvm_vcpu_enter_guest_prepare(vm->vcpu[1]);
	ck_assert_uint_eq(vm->root_loads[0], 1);
	ck_assert_uint_eq(vm->root_loads[1], 1);
	ck_assert_uint_eq(kvm_mmu_root_pa(vm->vcpu[0]), kvm_mmu_root_pa(vm->vcpu[1]));
	ck_assert(kvm_mmu_root_valid(vm->vcpu[0]));
	ck_assert_uint_ne(kvm_mmu_root_pa(vm->vcpu[0]), old_root);
	/* the old tree is gone: only the new root and the vCPUs' caches remain */
	ck_assert_uint_le(sim_ptpool_in_use(vm->host->pool), tables);
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log), "kvm_mmu_zap_all_fast"));
	test_vm_free(vm);
}
END_TEST

START_TEST(memslot_delete_without_the_quirk_zaps_only_the_slot)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	struct kvm_userspace_memory_region2 region = { .slot = 0, .memory_size = 0 };

	vm->kvm->slot_zap_all = FALSE;
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	u64 root = kvm_mmu_root_pa(vm->vcpu[0]);

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	ck_assert_uint_eq(kvm_mmu_root_pa(vm->vcpu[0]), root);
	ck_assert(kvm_mmu_root_valid(vm->vcpu[0]));
	ck_assert_uint_eq(test_vm_spte(vm, GPA_A), SHADOW_NONPRESENT_VALUE);
	ck_assert(vm->vcpu[0]->requests & (1ul << KVM_REQ_TLB_FLUSH));
	ck_assert_ptr_null(strstr(sim_log_text(vm->host->log), "kvm_mmu_zap_all_fast"));
	test_vm_free(vm);
}
END_TEST

static void
zap_all_fast_actor(SimActor *actor, gpointer data)
{
	kvm_mmu_zap_all_fast(((TestVm *)data)->kvm);
}

START_TEST(fast_path_racing_the_zap_of_an_invalid_root_meets_a_frozen_spte_and_retries)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, FALSE, -1 };
	guint young;

	/* an access-tracked SPTE: the next read is fixed by fast_page_fault() */
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + GPA_A, SIM_PAGE_SIZE, &young), 0);
	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "zapper", zap_all_fast_actor, vm);
	/* vcpu0 read the SPTE locklessly and stops before its compare-exchange; the zapper
	 * invalidates the root and, under the read lock, freezes the table that holds it */
	test_vm_run_steps(vm, "vcpu0:fast_pf.cmpxchg,zapper:zap.pt_frozen,vcpu0:exit,zapper:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_ge(vm->host->counters.v[SIM_CTR_PROBE_SPTE_CMPXCHG_LOST], 1);
	ck_assert(!sim_sched_failed(vm->host->sched));
	/* the next entry loads a new root, and the refault maps the page there */
	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, FALSE), RET_PF_FIXED);
	ck_assert_uint_eq(vm->root_loads[0], 1);
	ck_assert(is_shadow_present_pte(test_vm_spte(vm, GPA_A)));
	test_vm_free(vm);
}
END_TEST

START_TEST(vm_destroyed_with_a_zapper_abandoned_between_freeze_and_call_rcu_frees_its_tables)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	const SimStep steps[] = {
		{ "zapper", "zap.pt_frozen", 1 }, /* a table unlinked and frozen, not yet in RCU */
		{ "nobody", SIM_POINT_EXIT, 1 },  /* breaks the schedule there: zapper abandoned */
	};
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	sim_actor_new(vm->host->sched, "zapper", zap_all_fast_actor, vm);
	sim_sched_set_steps(vm->host->sched, steps, G_N_ELEMENTS(steps), SIM_POLICY_ROUND_ROBIN);
	ck_assert(!sim_sched_run(vm->host->sched, &error));
	ck_assert_uint_ge(vm->kvm->tdp_mmu_removing->len, 1);
	kvm_destroy_vm(vm->kvm);
	/* every table went back to the pool (LeakSanitizer checks their kvm_mmu_page structs, in
	 * ./test's sanitize suite) */
	ck_assert_uint_eq(sim_ptpool_in_use(vm->host->pool), 0);
	test_machine_free(vm->host);
	g_free(vm);
}
END_TEST

typedef struct {
	TestVm *vm;
	guint in_use;
} PoolProbe;

static void
pool_probe_actor(SimActor *actor, gpointer data)
{
	PoolProbe *probe = data;

	probe->in_use = sim_ptpool_in_use(probe->vm->host->pool);
}

START_TEST(tables_removed_under_a_lockless_walker_are_freed_only_after_it_leaves)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, FALSE, -1 };
	PoolProbe during = { vm, 0 }, after = { vm, 0 };
	guint young;

	ck_assert_int_eq(test_vm_fault(vm, 0, GPA_A, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(sim_mm_age(vm->host->mm, vm->hva + GPA_A, SIM_PAGE_SIZE, &young), 0);
	guint before = sim_ptpool_in_use(vm->host->pool);

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "zapper", zap_all_fast_actor, vm);
	sim_actor_new(vm->host->sched, "during", pool_probe_actor, &during);
	sim_actor_new(vm->host->sched, "after", pool_probe_actor, &after);
	/* the whole zap runs while vcpu0 is inside its RCU read-side section */
	test_vm_run_steps(vm, "vcpu0:fast_pf.cmpxchg,zapper:exit,during:exit,vcpu0:exit,after:exit");
	/* the zapped tables (PT, PD, PDPT) wait for vcpu0's grace period, then go */
	ck_assert_uint_eq(during.in_use, before);
	ck_assert_uint_le(after.in_use, before - 3);
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	test_vm_free(vm);
}
END_TEST

START_TEST(fault_that_sees_the_invalid_memslot_retries)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, GPA_A, TRUE, -1 };
	TestHost h = { vm, 0, 0, -1 };

	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(vm->host->sched, "vmm", delete_slot_actor, &h);
	test_vm_run_steps(vm, "vmm:memslot.synchronize_srcu,vcpu0:exit,vmm:exit");
	ck_assert_int_eq(f.result, RET_PF_RETRY);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_FAULT_RETRY_INVALID_SLOT], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(fault_outside_every_memslot_installs_an_mmio_spte_and_emulates)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	gpa_t mmio = 0xc0000000ull;
	int level;

	ck_assert_int_eq(test_vm_fault(vm, 0, mmio, FALSE), RET_PF_EMULATE);
	ck_assert(is_mmio_spte(kvm_tdp_mmu_get_walk_last(vm->vcpu[0], mmio, &level)));
	kvm_vcpu_srcu_read_lock(vm->vcpu[0]);
	ck_assert_int_eq(kvm_handle_ept_misconfig(vm->vcpu[0], mmio, 0x100000), RET_PF_EMULATE);
	kvm_vcpu_srcu_read_unlock(vm->vcpu[0]);
	test_vm_free(vm);
}
END_TEST

static Suite *
mmu_suite(void)
{
	Suite *s = suite_create("mmu");
	TCase *tc = tcase_create("tdp");
	tcase_add_test(tc, first_fault_installs_one_writable_4k_leaf);
	tcase_add_test(tc, a_remembered_walk_is_not_reused_once_an_spte_was_written);
	tcase_add_test(tc, fault_on_a_present_spte_is_spurious_on_the_fast_path);
	tcase_add_test(tc, zap_clears_the_leaf_keeps_the_tables_and_requests_a_flush);
	tcase_add_test(tc, invalidation_outside_every_memslot_skips_begin_and_end);
	tcase_add_test(tc, fault_outside_every_memslot_installs_an_mmio_spte_and_emulates);
	suite_add_tcase(s, tc);

	tc = tcase_create("races");
	tcase_add_loop_test(tc, invalidation_at_each_fault_yield_point_gives_the_kernel_outcome, 0,
			    G_N_ELEMENTS(fault_points));
	tcase_add_test(tc, unrelated_invalidation_in_progress_does_not_force_a_retry);
	tcase_add_test(tc, snapshot_during_a_covering_invalidation_retries_early);
	tcase_add_test(tc, covering_invalidation_in_progress_at_the_locked_check_forces_a_retry);
	tcase_add_test(tc, completed_unrelated_invalidation_after_the_snapshot_forces_a_retry);
	tcase_add_test(tc, two_vcpus_racing_on_one_gfn_install_exactly_one_spte);
	tcase_add_test(tc, a_vcpu_that_finds_the_spte_installed_under_the_lock_is_spurious);
	tcase_add_test(tc, migration_zaps_and_the_refault_maps_the_new_frame_with_the_same_content);
	tcase_add_test(tc, migration_of_a_page_pinned_by_an_inflight_fault_fails_busy);
	tcase_add_test(tc, fault_on_a_page_under_migration_waits_for_the_new_frame);
	tcase_add_test(tc, freeing_a_frame_before_the_tlb_flush_is_caught);
	tcase_add_test(tc, freeing_a_frame_an_spte_still_maps_is_caught);
	tcase_add_test(tc, audit_of_the_spte_writes_since_its_last_walk_catches_a_wrong_leaf);
	tcase_add_test(tc, audit_walks_every_table_again_once_its_spte_log_overflowed);
	tcase_add_test(tc, aging_access_tracks_the_spte_and_the_fast_path_restores_it);
	tcase_add_test(tc, memslot_delete_waits_for_the_inflight_fault_then_zaps_its_spte);
	tcase_add_test(tc, fault_that_sees_the_invalid_memslot_retries);
	tcase_add_test(tc, memslot_delete_with_the_slot_zap_quirk_gives_every_vcpu_a_new_root);
	tcase_add_test(tc, vm_destroyed_with_the_vmm_abandoned_in_synchronize_srcu_frees_both_generations);
	tcase_add_test(tc, memslot_ending_above_the_48_bit_reach_is_refused);
	tcase_add_test(tc, memslot_aliasing_another_host_range_is_refused);
	tcase_add_test(tc, memslot_delete_without_the_quirk_zaps_only_the_slot);
	tcase_add_test(tc,
		       fast_path_racing_the_zap_of_an_invalid_root_meets_a_frozen_spte_and_retries);
	tcase_add_test(tc, tables_removed_under_a_lockless_walker_are_freed_only_after_it_leaves);
	tcase_add_test(tc,
		       vm_destroyed_with_a_zapper_abandoned_between_freeze_and_call_rcu_frees_its_tables);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
		return check_run_suite(mmu_suite());
}
