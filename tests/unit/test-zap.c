/* SPDX-License-Identifier: GPL-2.0-only */
/* v6.18's root zaps, table tracepoints and MMIO generations, driven on the MMU model alone. */
#include "tests/check-run.h"
#include <string.h>

#include "tests/unit/harness.h"

#define MEM (4u << 20)
#define MMIO_GPA 0xc0000000ull

/* Index of the first line at or after from that contains every needle, or -1. */
static int
find_line(gchar **lines, int from, const char *needle, const char *needle2)
{
	for (int i = from; lines[i]; i++)
		if (strstr(lines[i], needle) && (!needle2 || strstr(lines[i], needle2)))
			return i;
	return -1;
}

/* Index of the last line that contains every needle, or -1. */
static int
find_last_line(gchar **lines, const char *needle, const char *needle2)
{
	int last = -1;

	for (int i = 0; lines[i]; i++)
		if (strstr(lines[i], needle) && (!needle2 || strstr(lines[i], needle2)))
			last = i;
	return last;
}

START_TEST(root_zap_clears_4k_then_2m_then_1g_then_root_entries)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	/* two 2 MiB regions: two page tables under one page directory */
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x5000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	gsize before = strlen(sim_log_text(vm->host->log));

	kvm_mmu_zap_all_fast(vm->kvm);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(vm->host->log) + before, "\n", -1);
	int last_leaf = find_last_line(lines, "level 1 old_spte 8610", "new_spte 8000000000000000");
	int first_2m = find_line(lines, 0, "level 2 old_spte 8010", "new_spte 8000000000000000");
	int last_2m = find_last_line(lines, "level 2 old_spte 8010", "new_spte 8000000000000000");
	int first_1g = find_line(lines, 0, "level 3 old_spte 8010", "new_spte 8000000000000000");
	int root = find_line(lines, 0, "level 4 old_spte 8010", "new_spte 8000000000000000");
	int first_frozen = find_line(lines, 0, "new_spte 80000000000005a0", NULL);

	ck_assert_int_ge(last_leaf, 0);
	ck_assert_int_ge(first_2m, 0);
	ck_assert_int_ne(first_2m, last_2m); /* both page tables */
	ck_assert_int_lt(last_leaf, first_2m);
	ck_assert_int_lt(last_leaf, first_frozen); /* leaves go before any table is frozen */
	ck_assert_int_lt(last_2m, first_1g);
	ck_assert_int_lt(first_1g, root);
	/* removed while zapping under the read lock: each child entry frozen, present or not */
	ck_assert_int_eq(find_line(lines, 0, "level 1 old_spte 8000000000000000",
				   "new_spte 80000000000005a0") > first_2m, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(every_new_table_page_is_traced_once_as_created)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x5000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x6000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x205000, TRUE), RET_PF_FIXED);
	const char *log = sim_log_text(vm->host->log);
	guint created = 0;

	for (const char *p = log; (p = strstr(p, "kvm_mmu_get_page: ")); p++) {
		ck_assert_ptr_nonnull(strstr(p, " new\n"));
		created++;
	}
	/* root, PDPT, PD and two PTs; the first fault found none of them */
	ck_assert_uint_eq(created, 5);
	ck_assert_ptr_nonnull(strstr(log, "kvm_mmu_get_page: sp gen 0 gfn 0 l4 8-byte q0 direct wux "
					  "nxe !ad root 2 sync new"));
	ck_assert_ptr_nonnull(strstr(log, "kvm_mmu_get_page: sp gen 0 gfn 200 l1 8-byte q0 direct "
					  "wux nxe !ad root 0 sync new"));
	test_vm_free(vm);
}
END_TEST

START_TEST(fast_zap_is_traced_with_the_valid_generation_it_toggles)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	kvm_mmu_zap_all_fast(vm->kvm);
	kvm_mmu_zap_all_fast(vm->kvm);
	const char *log = sim_log_text(vm->host->log);
	const char *first = strstr(log, "kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 0\n");

	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(first, "kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 1 used_pages 0\n"));
	test_vm_free(vm);
}
END_TEST

/* Creates a small memslot above guest RAM: one memslot update. */
static void
add_slot_actor(SimActor *actor, gpointer data)
{
	TestHost *h = data;
	struct kvm_userspace_memory_region2 region = {
		.slot = 1,
		.guest_phys_addr = 0x40000000ull,
		.memory_size = 0x1000,
		.userspace_addr = h->vm->hva + 0x10000000ull,
	};

	ck_assert(sim_mm_mmap_anon_at(h->vm->host->mm, region.userspace_addr, 0x1000, NULL));
	h->result = kvm_set_memory_region(h->vm->kvm, &region);
}

/* One EPT misconfig on the MMIO gpa, as vcpu0 takes it. */
static void
misconfig_actor(SimActor *actor, gpointer data)
{
	TestFault *f = data;

	kvm_vcpu_srcu_read_lock(f->vm->vcpu[0]);
	f->result = kvm_handle_ept_misconfig(f->vm->vcpu[0], f->gpa, 0x100000);
	kvm_vcpu_srcu_read_unlock(f->vm->vcpu[0]);
}

START_TEST(memslot_update_steps_the_generation_by_the_address_spaces_after_the_srcu_sync)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestHost h = { vm, 0, 0, -1 };
	u64 gen = vm->kvm->memslots->generation;

	add_slot_actor(NULL, &h);
	ck_assert_int_eq(h.result, 0);
	ck_assert_uint_eq(vm->kvm->memslots->generation, gen + 2);
	test_vm_free(vm);
}
END_TEST

START_TEST(mmio_spte_checked_during_a_memslot_update_takes_the_normal_fault_path)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestHost h = { vm, 0, 0, -1 };
	TestFault f = { vm, 0, MMIO_GPA, FALSE, -1 };

	ck_assert_int_eq(test_vm_fault(vm, 0, MMIO_GPA, FALSE), RET_PF_EMULATE);
	gsize before = strlen(sim_log_text(vm->host->log));

	sim_actor_new(vm->host->sched, "vmm", add_slot_actor, &h);
	sim_actor_new(vm->host->sched, "vcpu0", misconfig_actor, &f);
	/* the new memslots are published, the SRCU sync has not finished: update in progress */
	test_vm_run_steps(vm, "vmm:memslot.synchronize_srcu,vcpu0:exit,vmm:exit");
	const char *log = sim_log_text(vm->host->log) + before;

	ck_assert_int_eq(f.result, RET_PF_EMULATE);
	ck_assert_ptr_null(strstr(log, "handle_mmio_page_fault"));
	ck_assert_ptr_null(strstr(log, "check_mmio_spte")); /* no generation compared */
	ck_assert_ptr_nonnull(strstr(log, "kvm_mmu_spte_requested: gfn c0000 pfn 8000000000000000"));
	/* the fault keeps PFERR_RSVD_MASK, which page_fault_can_be_fast() refuses */
	ck_assert_ptr_null(strstr(log, "fast_page_fault"));
	test_vm_free(vm);
}
END_TEST

/* vcpu0 takes an EPT misconfig on the MMIO gpa; the result, and the log it added. */
static int
misconfig_and_log(TestVm *vm, const char **out_log)
{
	gsize before = strlen(sim_log_text(vm->host->log));

	kvm_vcpu_srcu_read_lock(vm->vcpu[0]);
	int r = kvm_handle_ept_misconfig(vm->vcpu[0], MMIO_GPA, 0x100000);

	kvm_vcpu_srcu_read_unlock(vm->vcpu[0]);
	*out_log = sim_log_text(vm->host->log) + before;
	return r;
}

START_TEST(mmio_spte_of_the_current_generation_is_emulated_without_a_fault)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	const char *log;

	ck_assert_int_eq(test_vm_fault(vm, 0, MMIO_GPA, FALSE), RET_PF_EMULATE);
	ck_assert_int_eq(misconfig_and_log(vm, &log), RET_PF_EMULATE);
	ck_assert_ptr_nonnull(strstr(log, "check_mmio_spte: spte "));
	ck_assert_ptr_nonnull(strstr(log, " valid 1\n"));
	ck_assert_ptr_nonnull(strstr(log, "handle_mmio_page_fault: addr:0 gfn c0000 access 0\n"));
	ck_assert_ptr_null(strstr(log, "kvm_mmu_spte_requested"));
	test_vm_free(vm);
}
END_TEST

START_TEST(stale_mmio_spte_after_a_memslot_update_is_refaulted_with_rsvd_kept)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestHost h = { vm, 0, 0, -1 };

	ck_assert_int_eq(test_vm_fault(vm, 0, MMIO_GPA, FALSE), RET_PF_EMULATE);
	/* creating a slot zaps nothing: the MMIO SPTE stays, with the generation memslot 0's
	 * creation left (2) */
	add_slot_actor(NULL, &h);
	ck_assert_int_eq(h.result, 0);
	const char *log;

	ck_assert_int_eq(misconfig_and_log(vm, &log), RET_PF_EMULATE);
	ck_assert_ptr_nonnull(strstr(log, "kvm_gen 4 spte-gen 2 valid 0\n"));
	ck_assert_ptr_null(strstr(log, "fast_page_fault"));
	ck_assert_ptr_nonnull(strstr(log, "mark_mmio_spte: "));
	ck_assert_ptr_nonnull(strstr(log, " gfn c0000 access 6 gen 4\n"));
	test_vm_free(vm);
}
END_TEST

/* MADV_DONTNEED of three pages from 0x5000: one invalidation that zaps three leaves. */
static void
dontneed_three_actor(SimActor *actor, gpointer data)
{
	TestVm *vm = data;

	ck_assert_int_eq(sim_mm_dontneed(vm->host->mm, vm->hva + 0x5000, 3 * SIM_PAGE_SIZE), 0);
}

START_TEST(leaf_zap_flushes_and_yields_mmu_lock_to_a_waiting_fault)
{
	TestVm *vm = test_vm_new(1, 1, MEM);
	TestFault f = { vm, 0, 0x20000, TRUE, -1 };

	for (gpa_t gpa = 0x5000; gpa < 0x8000; gpa += 0x1000)
		ck_assert_int_eq(test_vm_fault(vm, 0, gpa, TRUE), RET_PF_FIXED);
	gsize before = strlen(sim_log_text(vm->host->log));

	sim_actor_new(vm->host->sched, "host", dontneed_three_actor, vm);
	sim_actor_new(vm->host->sched, "vcpu0", test_fault_actor, &f);
	/* the host has zapped gfn 5 under the write lock; vcpu0's fault queues for the read lock,
	 * so at the next SPTE the zap flushes, lets vcpu0 in, and takes the lock back after it */
	test_vm_run_steps(vm, "host:zap.spte_cleared,vcpu0:block,host:zap.resched_unlock,"
			      "vcpu0:exit,host:exit");
	g_auto(GStrv) lines = g_strsplit(sim_log_text(vm->host->log) + before, "\n", -1);
	int zap5 = find_line(lines, 0, "gfn 5 level 1 old_spte 8610", NULL);
	int flush = find_line(lines, 0, "sim_flush_remote_tlbs", NULL);
	int install = find_line(lines, 0, "kvm_mmu_set_spte: gfn 20 ", NULL);
	int zap6 = find_line(lines, 0, "gfn 6 level 1 old_spte 8610", NULL);

	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert_int_ge(zap5, 0);
	ck_assert_int_lt(zap5, flush);
	ck_assert_int_lt(flush, install);
	ck_assert_int_lt(install, zap6);
	ck_assert(!sim_sched_failed(vm->host->sched));
	test_vm_free(vm);
}
END_TEST

static Suite *
zap_suite(void)
{
	Suite *s = suite_create("zap");
	TCase *tc = tcase_create("roots");

	tcase_add_test(tc, root_zap_clears_4k_then_2m_then_1g_then_root_entries);
	tcase_add_test(tc, every_new_table_page_is_traced_once_as_created);
	tcase_add_test(tc, fast_zap_is_traced_with_the_valid_generation_it_toggles);
	tcase_add_test(tc, leaf_zap_flushes_and_yields_mmu_lock_to_a_waiting_fault);
	suite_add_tcase(s, tc);

	tc = tcase_create("mmio");
	tcase_add_test(tc, memslot_update_steps_the_generation_by_the_address_spaces_after_the_srcu_sync);
	tcase_add_test(tc, mmio_spte_checked_during_a_memslot_update_takes_the_normal_fault_path);
	tcase_add_test(tc, mmio_spte_of_the_current_generation_is_emulated_without_a_fault);
	tcase_add_test(tc, stale_mmio_spte_after_a_memslot_update_is_refaulted_with_rsvd_kept);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(zap_suite());
}
