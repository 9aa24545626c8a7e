/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Post-copy's kernel side: the userfaultfd wait queue (sim/core/uffd.c), the KVM Userfault
 * bitmap rules and exit-on-missing (mmu/userfault.c), on the MMU model alone.
 */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "tests/unit/gmem-harness.h"
#include "sim/core/counters.h"
#include "sim/core/uffd.h"

/* A VM with memslot 0 [0, 64 KiB) registered with a userfaultfd of its mm. */
typedef struct {
	TestVm *vm;
	SimUffd *uffd;
} UffdVm;

static UffdVm
uffd_vm_new(int nr_vcpus)
{
	UffdVm u = { test_vm_new(1, nr_vcpus, 64 << 10), NULL };

	u.uffd = sim_uffd_new(u.vm->host->mm);
	ck_assert_int_eq(sim_uffd_register(u.uffd, u.vm->hva, 64 << 10), 0);
	return u;
}

static void
uffd_vm_free(UffdVm *u)
{
	sim_uffd_free(u->uffd);
	test_vm_free(u->vm);
}

static guint64
ctr(UffdVm *u, SimCounter id)
{
	return u->vm->host->counters.v[id];
}

/* The VMM's resolver: read one message, UFFDIO_COPY a page of 0xab to it. */
typedef struct {
	UffdVm *u;
	SimUffdMsg msg;
	int copies;
	int results[2];
} Resolver;

static void
resolver_actor(SimActor *actor, gpointer data)
{
	Resolver *r = data;
	guint8 page[SIM_PAGE_SIZE];

	memset(page, 0xab, sizeof(page));
	ck_assert(sim_uffd_read(r->u->uffd, &r->msg));
	for (int i = 0; i < r->copies; i++)
		r->results[i] = sim_uffd_copy(r->u->uffd, r->msg.address, page, FALSE);
}

/* A vCPU fault on a missing page sleeps on the wait queue until UFFDIO_COPY wakes it; the page
 * it then maps holds the copied content. */
START_TEST(test_uffd_fault_sleeps_until_copy)
{
	UffdVm u = uffd_vm_new(1);
	TestFault f = { u.vm, 0, 0x3000, TRUE, -1 };
	Resolver r = { &u, { 0 }, 2, { 1, 1 } };

	sim_actor_new(u.vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(u.vm->host->sched, "vmm", resolver_actor, &r);
	/* vcpu0 runs until it blocks asleep in handle_userfault() */
	test_vm_run_steps(u.vm, "vcpu0:block,vmm:exit,vcpu0:exit");
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert_uint_eq(r.msg.address, u.vm->hva + 0x3000);
	ck_assert(r.msg.write);
	ck_assert_int_eq(r.results[0], 0);
	ck_assert_int_eq(r.results[1], -EEXIST); /* the PTE is no longer none */
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_FAULTS), 1);
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_WAKEUPS), 1);
	ck_assert_uint_eq(sim_uffd_nr_waiters(u.uffd), 0);
	SimPfn pfn = sim_mm_lookup(u.vm->host->mm, u.vm->hva + 0x3000);
	guint8 byte = 0;

	ck_assert_uint_ne(pfn, SIM_PFN_NONE);
	sim_frame_read(u.vm->host->hm, pfn, 100, &byte, 1);
	ck_assert_uint_eq(byte, 0xab);
	ck_assert(is_shadow_present_pte(test_vm_spte(u.vm, 0x3000)));
	uffd_vm_free(&u);
}
END_TEST

/* Two vCPUs on one page: two messages, one copy wakes both (the second message's copy finds
 * the PTE and changes nothing). */
START_TEST(test_uffd_one_copy_wakes_all)
{
	UffdVm u = uffd_vm_new(2);
	TestFault f0 = { u.vm, 0, 0x5000, FALSE, -1 }, f1 = { u.vm, 1, 0x5000, TRUE, -1 };
	Resolver r = { &u, { 0 }, 1, { 1, 1 } };

	sim_actor_new(u.vm->host->sched, "vcpu0", test_fault_actor, &f0);
	sim_actor_new(u.vm->host->sched, "vcpu1", test_fault_actor, &f1);
	sim_actor_new(u.vm->host->sched, "vmm", resolver_actor, &r);
	test_vm_run_steps(u.vm, "vcpu0:block,vcpu1:block,vmm:exit");
	/* both woke and finished their fault: one installed, the other lost to it and retries */
	ck_assert_int_eq(f0.result, RET_PF_FIXED);
	ck_assert(f1.result == RET_PF_RETRY || f1.result == RET_PF_SPURIOUS);
	ck_assert(is_shadow_present_pte(test_vm_spte(u.vm, 0x5000)));
	ck_assert_uint_eq(r.msg.address, u.vm->hva + 0x5000);
	ck_assert(!r.msg.write); /* the oldest message first: vcpu0's read */
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_FAULTS), 2);
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_WAKEUPS), 2);
	ck_assert(!sim_uffd_pending(u.uffd));
	uffd_vm_free(&u);
}
END_TEST

/* A reader that finds the wait-queue lock held (a faulting vCPU stopped inside it) blocks, and
 * the blocked acquisition is counted. */
START_TEST(test_uffd_wq_lock_contention_counted)
{
	UffdVm u = uffd_vm_new(1);
	TestFault f = { u.vm, 0, 0x1000, TRUE, -1 };
	Resolver r = { &u, { 0 }, 1, { 1, 1 } };

	sim_actor_new(u.vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(u.vm->host->sched, "vmm", resolver_actor, &r);
	test_vm_run_steps(u.vm, "vcpu0:uffd.wq_locked,vmm:block,vcpu0:block,vmm:exit,vcpu0:exit");
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_WQ_LOCK_BLOCKED), 1);
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	uffd_vm_free(&u);
}
END_TEST

/* The VMM copies without reading the message (it knows what to place). */
static void
copier_actor(SimActor *actor, gpointer data)
{
	Resolver *r = data;
	guint8 page[SIM_PAGE_SIZE] = { 0 };

	r->results[0] = sim_uffd_copy(r->u->uffd, r->u->vm->hva + 0x3000, page, FALSE);
}

/* A fault that finds the PTE filled after queueing (userfaultfd_must_wait() FALSE) leaves the
 * queue itself - but the copy's wake, holding the lock, unlinks it first: the faulter must not
 * unlink it again (list_del() after the waker's list_del_init() is harmless in the kernel). */
START_TEST(test_uffd_unqueue_after_waker_unlinked)
{
	UffdVm u = uffd_vm_new(1);
	TestFault f = { u.vm, 0, 0x3000, TRUE, -1 };
	Resolver r = { &u, { 0 }, 1, { 1, 1 } };

	sim_actor_new(u.vm->host->sched, "vcpu0", test_fault_actor, &f);
	sim_actor_new(u.vm->host->sched, "vmm", copier_actor, &r);
	test_vm_run_steps(u.vm, "vcpu0:uffd.fault_wq_unlock,vmm:uffd.wq_locked,vcpu0:block,"
			  "vmm:exit,vcpu0:exit");
	ck_assert_int_eq(r.results[0], 0);
	ck_assert_int_eq(f.result, RET_PF_FIXED);
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_WQ_LOCK_BLOCKED), 1);
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_WAKEUPS), 1);
	ck_assert_uint_eq(sim_uffd_nr_waiters(u.uffd), 0);
	uffd_vm_free(&u);
}
END_TEST

/* FOLL_NOWAIT (the async-PF probe) never sleeps nor queues a message; UFFDIO_COPY outside the
 * registered range is -ENOENT. */
static void
nowait_actor(SimActor *actor, gpointer data)
{
	UffdVm *u = data;
	SimPfn pfn;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn_flags(u->vm->host->mm, u->vm->hva + 0x2000, TRUE,
						 SIM_GUP_NOWAIT, &pfn, &writable), -EAGAIN);
	ck_assert(!sim_uffd_pending(u->uffd));
	ck_assert_int_eq(sim_mm_hva_to_pfn_flags(u->vm->host->mm, u->vm->hva + 0x2000, TRUE,
						 SIM_GUP_FAST_ONLY, &pfn, &writable), -EFAULT);
	guint8 page[SIM_PAGE_SIZE] = { 0 };

	ck_assert_int_eq(sim_uffd_copy(u->uffd, u->vm->hva + (1 << 20), page, FALSE), -ENOENT);
}

START_TEST(test_uffd_nowait_does_not_queue)
{
	UffdVm u = uffd_vm_new(1);

	sim_actor_new(u.vm->host->sched, "vmm", nowait_actor, &u);
	test_vm_run_steps(u.vm, "vmm:exit");
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_FAULTS), 1);
	ck_assert_uint_eq(sim_uffd_nr_waiters(u.uffd), 0);
	uffd_vm_free(&u);
}
END_TEST

/* Turn memslot 0 into a KVM Userfault slot (a flags-only change) with bitmap. */
static int
enable_userfault(TestVm *vm, unsigned long *bitmap, u32 flags)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.flags = flags,
		.memory_size = vm->mem_size,
		.userspace_addr = vm->hva,
		.userfault_bitmap = bitmap,
	};

	return kvm_set_memory_region(vm->kvm, &region);
}

/* Without a series bit 3 is refused; a set bit exits with KVM_MEMORY_EXIT_FLAG_USERFAULT, a
 * clear one maps. */
START_TEST(test_userfault_set_bit_exits)
{
	TestVm *vm = test_vm_new(1, 1, 64 << 10);
	unsigned long bitmap[1] = { 1ul << 4 };

	ck_assert_int_eq(enable_userfault(vm, bitmap, KVM_MEM_USERFAULT), -EINVAL);
	vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_USERFAULT;
	ck_assert_int_eq(enable_userfault(vm, bitmap, KVM_MEM_USERFAULT), 0);
	vm->vcpu[0]->run.exit_reason = 0;
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x4000, FALSE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags, KVM_MEMORY_EXIT_FLAG_USERFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.gpa, 0x4000);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.size, SIM_PAGE_SIZE);
	ck_assert(!is_shadow_present_pte(test_vm_spte(vm, 0x4000)));
	/* page ready: clear the bit; the refault maps */
	__atomic_fetch_and(&bitmap[0], ~(1ul << 4), __ATOMIC_RELEASE);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x4000, FALSE), RET_PF_FIXED);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x5000, TRUE), RET_PF_FIXED);
	test_vm_free(vm);
}
END_TEST

/* Enabling zaps the slot; setting a bit later leaves a mapped page mapped; no bitmap is a bare
 * -EFAULT with no annotation. */
START_TEST(test_userfault_enable_zaps_set_later_keeps)
{
	TestVm *vm = test_vm_new(1, 1, 64 << 10);
	unsigned long bitmap[1] = { 0 };

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x2000, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(kvm_tdp_mmu_count_present(vm->kvm), 1);
	vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_USERFAULT;
	ck_assert_int_eq(enable_userfault(vm, bitmap, KVM_MEM_USERFAULT), 0);
	ck_assert_uint_eq(kvm_tdp_mmu_count_present(vm->kvm), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x2000, TRUE), RET_PF_FIXED);
	bitmap[0] |= 1ul << 2;
	/* the SPTE stays: nothing rescans the bitmap */
	ck_assert(is_shadow_present_pte(test_vm_spte(vm, 0x2000)));
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x2000, TRUE), RET_PF_SPURIOUS);
	/* and disabling, then enabling without a bitmap */
	ck_assert_int_eq(enable_userfault(vm, NULL, 0), 0);
	ck_assert_int_eq(enable_userfault(vm, NULL, KVM_MEM_USERFAULT), 0);
	vm->vcpu[0]->run.exit_reason = 0;
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x2000, TRUE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, 0);
	test_vm_free(vm);
}
END_TEST

/* While KVM_MEM_USERFAULT is on, a fault that would map 2M maps 4K. */
START_TEST(test_userfault_4k_only)
{
	TestVm *vm = test_vm_new(1, 1, 4 << 20);
	unsigned long bitmap[16] = { 0 };
	int level = 0;

	ck_assert_int_eq(sim_mm_madvise_hugepage(vm->host->mm, vm->hva, 4 << 20), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x201000, TRUE), RET_PF_FIXED);
	kvm_tdp_mmu_leaf_spte(vm->kvm, 0x201, &level);
	ck_assert_int_eq(level, PG_LEVEL_2M);
	vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_USERFAULT;
	ck_assert_int_eq(enable_userfault(vm, bitmap, KVM_MEM_USERFAULT), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x201000, TRUE), RET_PF_FIXED);
	kvm_tdp_mmu_leaf_spte(vm->kvm, 0x201, &level);
	ck_assert_int_eq(level, PG_LEVEL_4K);
	ck_assert(!is_shadow_present_pte(kvm_tdp_mmu_leaf_spte(vm->kvm, 0x202, NULL)));
	test_vm_free(vm);
}
END_TEST

/* A guest_memfd slot may change only KVM_MEM_USERFAULT (v3 04/15 relaxes "only deletion" to "no
 * moving"; no other flag is valid on such a slot): turning it on works and a private access to a
 * set bit exits PRIVATE | USERFAULT; any other change of the slot is still refused. */
static int
gmem_slot_flags(GmVm *vm, u32 flags, unsigned long *bitmap)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.flags = KVM_MEM_GUEST_MEMFD | flags,
		.memory_size = GM_MEM,
		.userspace_addr = vm->hva,
		.guest_memfd = (u32)vm->fd,
		.userfault_bitmap = bitmap,
	};

	return kvm_set_memory_region(vm->kvm, &region);
}

START_TEST(test_userfault_gmem_slot_toggles_only_this_flag)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	unsigned long bitmap[1] = { 1ul << 3 };

	ck_assert_int_eq(gmem_slot_flags(vm, KVM_MEM_USERFAULT, bitmap), -EINVAL);
	vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_USERFAULT;
	ck_assert_int_eq(gmem_slot_flags(vm, KVM_MEM_USERFAULT | KVM_MEM_LOG_DIRTY_PAGES, bitmap),
			 -EINVAL);
	ck_assert_int_eq(gmem_slot_flags(vm, KVM_MEM_USERFAULT, bitmap), 0);
	vm->vcpu[0]->run.exit_reason = 0;
	ck_assert_int_eq(gm_fault(vm, 0, 0x3000, TRUE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags,
			  KVM_MEMORY_EXIT_FLAG_PRIVATE | KVM_MEMORY_EXIT_FLAG_USERFAULT);
	ck_assert_int_eq(gm_fault(vm, 0, 0x4000, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(gmem_slot_flags(vm, KVM_MEM_USERFAULT | KVM_MEM_READONLY, bitmap),
			 -EINVAL);
	ck_assert_int_eq(gmem_slot_flags(vm, 0, NULL), 0);
	ck_assert_int_eq(gm_fault(vm, 0, 0x3000, TRUE), RET_PF_FIXED);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

/* Exit-on-missing: a missing page is a memory-fault exit with flags 0, never a userfaultfd
 * sleep; a present one maps; READONLY with the flag is refused. */
START_TEST(test_exit_on_missing)
{
	UffdVm u = uffd_vm_new(1);
	TestVm *vm = u.vm;

	vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_EXIT_ON_MISSING;
	ck_assert_int_eq(enable_userfault(vm, NULL, KVM_MEM_EXIT_ON_MISSING | KVM_MEM_READONLY),
			 -EINVAL);
	ck_assert_int_eq(enable_userfault(vm, NULL, KVM_MEM_EXIT_ON_MISSING), 0);
	vm->vcpu[0]->run.exit_reason = 0;
	ck_assert_int_eq(test_vm_fault(vm, 0, 0x6000, TRUE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags, 0);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.gpa, 0x6000);
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_FAULTS), 0);
	ck_assert_uint_eq(sim_uffd_nr_waiters(u.uffd), 0);
	uffd_vm_free(&u);
}
END_TEST

/* The VMM fixes up with UFFDIO_COPY and re-runs: the fault maps. */
static void
copy_then_fault_actor(SimActor *actor, gpointer data)
{
	UffdVm *u = data;
	guint8 page[SIM_PAGE_SIZE] = { 0 };

	ck_assert_int_eq(test_vm_fault(u->vm, 0, 0x6000, TRUE), -EFAULT);
	ck_assert_int_eq(sim_uffd_copy(u->uffd, u->vm->hva + 0x6000, page, FALSE), 0);
	ck_assert_int_eq(test_vm_fault(u->vm, 0, 0x6000, TRUE), RET_PF_FIXED);
}

START_TEST(test_exit_on_missing_fixup_reruns)
{
	UffdVm u = uffd_vm_new(1);

	u.vm->kvm->postcopy_uapi = KVM_POSTCOPY_UAPI_EXIT_ON_MISSING;
	ck_assert_int_eq(enable_userfault(u.vm, NULL, KVM_MEM_EXIT_ON_MISSING), 0);
	sim_actor_new(u.vm->host->sched, "vcpu0", copy_then_fault_actor, &u);
	test_vm_run_steps(u.vm, "vcpu0:exit");
	ck_assert(is_shadow_present_pte(test_vm_spte(u.vm, 0x6000)));
	ck_assert_uint_eq(ctr(&u, SIM_CTR_UFFD_FAULTS), 0);
	uffd_vm_free(&u);
}
END_TEST

static Suite *
postcopy_suite(void)
{
	Suite *s = suite_create("postcopy");
	TCase *uffd = tcase_create("uffd");
	TCase *uf = tcase_create("userfault");
	TCase *eom = tcase_create("exit-on-missing");

	tcase_add_test(uffd, test_uffd_fault_sleeps_until_copy);
	tcase_add_test(uffd, test_uffd_one_copy_wakes_all);
	tcase_add_test(uffd, test_uffd_wq_lock_contention_counted);
	tcase_add_test(uffd, test_uffd_nowait_does_not_queue);
	tcase_add_test(uffd, test_uffd_unqueue_after_waker_unlinked);
	tcase_add_test(uf, test_userfault_set_bit_exits);
	tcase_add_test(uf, test_userfault_enable_zaps_set_later_keeps);
	tcase_add_test(uf, test_userfault_4k_only);
	tcase_add_test(uf, test_userfault_gmem_slot_toggles_only_this_flag);
	tcase_add_test(eom, test_exit_on_missing);
	tcase_add_test(eom, test_exit_on_missing_fixup_reruns);
	suite_add_tcase(s, uffd);
	suite_add_tcase(s, uf);
	suite_add_tcase(s, eom);
	return s;
}

int
main(void)
{
	return check_run_suite(postcopy_suite());
}
