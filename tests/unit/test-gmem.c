/* SPDX-License-Identifier: GPL-2.0-only */
/* guest_memfd: creation, binding, get_pfn, fallocate, host mmap, release, link, and the
 * proposed in-place conversion, each errno path included. */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "tests/unit/gmem-harness.h"

#define PAGE 4096ull

static int
create(GmVm *vm, u64 size, u64 flags)
{
	const struct kvm_create_guest_memfd args = { .size = size, .flags = flags };

	return kvm_gmem_create(vm->kvm, &args);
}

static int
bind(GmVm *vm, u32 slot, u32 flags, gpa_t gpa, u64 size, int fd, u64 offset)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = vm->hva + gpa,
		.guest_memfd = (u32)fd,
		.guest_memfd_offset = offset,
	};

	return kvm_set_memory_region(vm->kvm, &region);
}

START_TEST(create_rejects_unknown_flags_and_bad_sizes)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	ck_assert_int_eq(create(vm, PAGE, 1ull << 2), -EINVAL);
	/* INIT_SHARED only for VMs without private memory */
	ck_assert_int_eq(create(vm, PAGE, GUEST_MEMFD_FLAG_INIT_SHARED), -EINVAL);
	ck_assert_int_eq(create(vm, 0, 0), -EINVAL);
	ck_assert_int_eq(create(vm, PAGE + 1, 0), -EINVAL);
	ck_assert_int_eq(create(vm, (u64)-PAGE, 0), -EINVAL); /* negative as loff_t */
	ck_assert_int_eq(create(vm, PAGE, GUEST_MEMFD_FLAG_MMAP), 3);
	ck_assert_int_eq(create(vm, PAGE, 0), 4);
	gm_vm_put(vm);
	GmVm *dflt = gm_vm_new(host, KVM_X86_DEFAULT_VM, FALSE, 1);

	ck_assert_uint_eq(kvm_gmem_get_supported_flags(dflt->kvm),
			  GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	ck_assert_int_eq(create(dflt, PAGE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED),
			 5);
	gm_vm_put(dflt);
	test_machine_free(host);
}
END_TEST

START_TEST(vm_types_other_than_default_and_sw_protected_are_refused)
{
	TestMachine *host = gm_host_new(1);
	const struct kvm_create_vm_args args = { .type = 4 /* KVM_X86_SNP_VM */ };
	struct kvm *kvm = (struct kvm *)&args;

	ck_assert_int_eq(kvm_create_vm_with(host->sched, host->hm, host->pool, host->mm,
					    &host->counters, NULL, &args, &kvm), -EINVAL);
	ck_assert_ptr_null(kvm);
	test_machine_free(host);
}
END_TEST

START_TEST(bind_checks_each_condition_with_the_kernels_errno)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmVm *other = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GError *error = NULL;

	ck_assert(sim_mm_mmap_anon(host->mm, GM_MEM, &vm->hva, &error));
	int fd = create(vm, 8 * PAGE, 0);
	int other_fd = create(other, 8 * PAGE, 0);
	int not_gmem = gmem_fd_install_other(host->files);

	/* check_memory_region_flags(): not with READONLY, not with dirty logging */
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY, 0, PAGE, fd, 0),
			 -EINVAL);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES, 0, PAGE, fd,
			      0), -EINVAL);
	/* kvm_set_memory_region(): the offset is aligned and does not wrap */
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, PAGE, fd, 100), -EINVAL);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, PAGE, fd, (u64)-PAGE), -EINVAL);
	/* kvm_gmem_bind(): fd, kind, owner, range, overlap */
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, PAGE, 99, 0), -EBADF);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, PAGE, not_gmem, 0), -EINVAL);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, PAGE, other_fd, 0), -EINVAL);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, 2 * PAGE, fd, 7 * PAGE), -EINVAL);
	ck_assert_int_eq(bind(vm, 1, KVM_MEM_GUEST_MEMFD, 0, 2 * PAGE, fd, 2 * PAGE), 0);
	ck_assert_int_eq(bind(vm, 2, KVM_MEM_GUEST_MEMFD, 4 * PAGE, 2 * PAGE, fd, 3 * PAGE),
			 -EINVAL);
	ck_assert_int_eq(bind(vm, 2, KVM_MEM_GUEST_MEMFD, 4 * PAGE, 2 * PAGE, fd, 4 * PAGE), 0);
	/* an overlapping slot is refused before its file is looked at */
	ck_assert_int_eq(bind(vm, 3, KVM_MEM_GUEST_MEMFD, PAGE, PAGE, 99, 0), -EEXIST);
	/* nothing was left half-bound by the refusals */
	ck_assert_uint_eq(kvm_id_to_memslot(vm->kvm, 1)->gmem.pgoff, 2);
	ck_assert(!(kvm_id_to_memslot(vm->kvm, 1)->flags & KVM_MEMSLOT_GMEM_ONLY));
	gm_vm_put(vm);
	gm_vm_put(other);
	test_machine_free(host);
}
END_TEST

START_TEST(gmem_slots_are_immutable_and_delete_unbinds)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP);
	ck_assert(kvm_id_to_memslot(vm->kvm, 0)->flags & KVM_MEMSLOT_GMEM_ONLY);
	ck_assert_int_eq(bind(vm, 0, KVM_MEM_GUEST_MEMFD, 0, GM_MEM, vm->fd, 0), -EINVAL);
	ck_assert_int_eq(bind(vm, 0, 0, 0, GM_MEM, vm->fd, 0), -EINVAL); /* dropping the flag */
	ck_assert_int_eq(bind(vm, 0, 0, 0, 0, vm->fd, 0), 0); /* delete */
	ck_assert_ptr_null(kvm_id_to_memslot(vm->kvm, 0));
	/* the file's pages are free to bind again */
	ck_assert_int_eq(bind(vm, 3, KVM_MEM_GUEST_MEMFD, 0, GM_MEM, vm->fd, 0), 0);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(get_pfn_allocates_zeroes_once_and_returns_a_reference)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	struct kvm_memory_slot *slot;
	kvm_pfn_t pfn, again;
	int max_order = -1;
	guint8 byte = 0x5a, back = 0;

	gm_vm_add_gmem_slot(vm, 0);
	slot = kvm_id_to_memslot(vm->kvm, 0);
	ck_assert_int_eq(kvm_gmem_get_pfn(vm->kvm, slot, 3, &pfn, &max_order), 0);
	ck_assert_int_eq(max_order, 0);
	ck_assert_uint_eq(sim_frame_refs(host->hm, pfn), 1);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_ALLOCATED], 1);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_ZEROED], 1);
	sim_frame_write(host->hm, pfn, 0, &byte, 1);
	sim_frame_put(host->hm, pfn);
	ck_assert_int_eq(kvm_gmem_get_pfn(vm->kvm, slot, 3, &again, NULL), 0);
	ck_assert_uint_eq(again, pfn);
	sim_frame_read(host->hm, again, 0, &back, 1);
	ck_assert_uint_eq(back, 0x5a); /* uptodate: not zeroed a second time */
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_ZEROED], 1);
	sim_frame_put(host->hm, again);
	ck_assert_uint_eq(kvm_gmem_folio_pfn(host->files, vm->fd, 3), pfn);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(get_pfn_for_a_slot_the_index_is_not_bound_to_is_eio)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	kvm_pfn_t pfn;

	gm_vm_add_gmem_slot(vm, 0);
	struct kvm_memory_slot impostor = *kvm_id_to_memslot(vm->kvm, 0);

	impostor.id = 7;
	ck_assert_int_eq(kvm_gmem_get_pfn(vm->kvm, &impostor, 0, &pfn, NULL), -EIO);
	impostor.gmem.file = NULL;
	ck_assert_int_eq(kvm_gmem_get_pfn(vm->kvm, &impostor, 0, &pfn, NULL), -EFAULT);
	ck_assert_uint_eq(kvm_gmem_nr_folios(host->files, vm->fd), 0);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(fallocate_refuses_bad_modes_and_ranges)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	int keep = FALLOC_FL_KEEP_SIZE, punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;

	gm_vm_add_gmem_slot(vm, 0);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, 42, keep, 0, PAGE), -EBADF);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, gmem_fd_install_other(host->files), keep,
					    0, PAGE), -EOPNOTSUPP);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, 0, 0, PAGE), -EOPNOTSUPP);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE),
			 -EOPNOTSUPP);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, keep | 0x08, 0, PAGE),
			 -EOPNOTSUPP);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, keep, 1, PAGE), -EINVAL);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, punch, 0, 100), -EINVAL);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, keep, 0, 0), -EINVAL);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, keep, GM_MEM - PAGE, 2 * PAGE),
			 -EINVAL);
	ck_assert_uint_eq(kvm_gmem_nr_folios(host->files, vm->fd), 0);
	/* allocation does not zero: that waits for the first use */
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, keep, 0, 4 * PAGE), 0);
	ck_assert_uint_eq(kvm_gmem_nr_folios(host->files, vm->fd), 4);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_ZEROED], 0);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(punch_hole_zaps_the_private_spte_and_frees_the_folio)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_private_vm(host);
	guint8 byte = 0x77, back = 0xff;

	ck_assert_int_eq(gm_fault(vm, 0, 2 * PAGE, TRUE), RET_PF_FIXED);
	SimPfn pfn = kvm_gmem_folio_pfn(host->files, vm->fd, 2);

	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, 2 * PAGE)), pfn);
	sim_frame_write(host->hm, pfn, 0, &byte, 1);
	guint64 invalidations = host->counters.v[SIM_CTR_INVALIDATIONS];

	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd,
					    FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 2 * PAGE,
					    PAGE), 0);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 2 * PAGE)));
	ck_assert_uint_eq(kvm_gmem_folio_pfn(host->files, vm->fd, 2), SIM_PFN_NONE);
	ck_assert(!sim_frame_allocated(host->hm, pfn));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_PUNCHED], 1);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_INVALIDATIONS], invalidations + 1);
	/* the next access gets a new, zeroed page */
	ck_assert_int_eq(gm_fault(vm, 0, 2 * PAGE, FALSE), RET_PF_FIXED);
	sim_frame_read(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 2), 0, &back, 1);
	ck_assert_uint_eq(back, 0);
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(mmap_needs_the_flag_and_a_shared_mapping)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmemVma *vma = NULL;
	int plain = create(vm, PAGE, 0), mappable = create(vm, PAGE, GUEST_MEMFD_FLAG_MMAP);

	ck_assert_int_eq(kvm_gmem_mmap(host->files, 77, 0, 1, TRUE, &vma), -EBADF);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, plain, 0, 1, TRUE, &vma), -ENODEV);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, mappable, 0, 1, FALSE, &vma), -EINVAL);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, mappable, 0, 0, TRUE, &vma), -EINVAL);
	ck_assert_ptr_null(vma);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, mappable, 0, 1, TRUE, &vma), 0);
	kvm_gmem_munmap(vma);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(host_faults_on_private_pages_or_beyond_eof_are_sigbus)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_DEFAULT_VM, FALSE, 1);
	GmemVma *shared_vma, *private_vma;
	guint8 byte = 0x42, back = 0;
	int shared = create(vm, 2 * PAGE, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
	int private = create(vm, 2 * PAGE, GUEST_MEMFD_FLAG_MMAP);

	ck_assert_int_eq(kvm_gmem_mmap(host->files, shared, 0, 4, TRUE, &shared_vma), 0);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, private, 0, 2, TRUE, &private_vma), 0);
	ck_assert_int_eq(kvm_gmem_host_access(shared_vma, PAGE + 8, &byte, 1, TRUE), 0);
	ck_assert_int_eq(kvm_gmem_host_access(shared_vma, PAGE + 8, &back, 1, FALSE), 0);
	ck_assert_uint_eq(back, 0x42);
	ck_assert_int_eq(kvm_gmem_host_access(shared_vma, 3 * PAGE, &back, 1, FALSE),
			 GMEM_VM_FAULT_SIGBUS); /* beyond i_size */
	ck_assert_int_eq(kvm_gmem_host_access(private_vma, 0, &back, 1, FALSE),
			 GMEM_VM_FAULT_SIGBUS);
	SimPfn unused;

	ck_assert_int_eq(kvm_gmem_fault_user_mapping(private_vma, 2, &unused), -EFAULT);
	ck_assert_uint_eq(kvm_gmem_nr_folios(host->files, private), 0);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_HOST_SIGBUS], 2);
	/* the mapped page holds a reference; munmap drops it */
	SimPfn pfn = kvm_gmem_folio_pfn(host->files, shared, 1);

	ck_assert_uint_eq(sim_frame_refs(host->hm, pfn), 1);
	kvm_gmem_munmap(shared_vma);
	kvm_gmem_munmap(private_vma);
	ck_assert_uint_eq(sim_frame_refs(host->hm, pfn), 0);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(release_while_bound_unbinds_zaps_and_later_faults_exit_efault)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmemVma *vma;
	struct kvm *kvm = vm->kvm;

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP);
	ck_assert_int_eq(gm_set_private(vm, 0, GM_MEM, TRUE), 0);
	ck_assert_int_eq(gm_fault(vm, 0, PAGE, TRUE), RET_PF_FIXED);
	SimPfn pfn = spte_to_pfn(gm_spte(vm, PAGE));

	/* a mapping keeps the file (and its memory) after the fd is closed */
	ck_assert_int_eq(kvm_gmem_mmap(host->files, vm->fd, 0, 1, TRUE, &vma), 0);
	ck_assert_int_eq(gmem_close(host->files, vm->fd), 0);
	ck_assert_int_eq(gmem_close(host->files, vm->fd), -EBADF);
	ck_assert(is_shadow_present_pte(gm_spte(vm, PAGE)));
	kvm_gmem_munmap(vma); /* the last reference: kvm_gmem_release() */
	ck_assert(!is_shadow_present_pte(gm_spte(vm, PAGE)));
	ck_assert_ptr_null(kvm_id_to_memslot(kvm, 0)->gmem.file);
	/* the only file was the inode's last: its memory went with it */
	ck_assert(!sim_frame_allocated(host->hm, pfn));
	/* later private faults exit to userspace with EFAULT */
	ck_assert_int_eq(gm_fault(vm, 0, PAGE, FALSE), -EFAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.gpa, PAGE);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.size, PAGE);
	ck_assert_uint_eq(vm->vcpu[0]->run.memory_fault.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_EXITS_MEMORY_FAULT], 1);
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(memory_lives_with_the_inode_across_linked_files)
{
	TestMachine *host = gm_host_new(1);
	GmVm *a = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmVm *b = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	struct kvm_link_guest_memfd link = { .fd = 0 };

	gm_vm_add_gmem_slot(a, 0);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, a->fd, FALLOC_FL_KEEP_SIZE, 0, PAGE), 0);
	SimPfn pfn = kvm_gmem_folio_pfn(host->files, a->fd, 0);

	link.fd = 99;
	ck_assert_int_eq(kvm_gmem_link(b->kvm, &link), -EINVAL);
	link.fd = (u64)gmem_fd_install_other(host->files);
	ck_assert_int_eq(kvm_gmem_link(b->kvm, &link), -EINVAL);
	link.fd = (u64)a->fd;
	ck_assert_int_eq(kvm_gmem_link(a->kvm, &link), -EINVAL); /* the same VM */
	link.flags = 1;
	ck_assert_int_eq(kvm_gmem_link(b->kvm, &link), -EINVAL);
	link.flags = 0;
	int fd_b = kvm_gmem_link(b->kvm, &link);

	ck_assert_int_ge(fd_b, 3);
	ck_assert_uint_eq(kvm_gmem_folio_pfn(host->files, fd_b, 0), pfn);
	ck_assert_int_eq(gmem_close(host->files, a->fd), 0);
	ck_assert(sim_frame_allocated(host->hm, pfn));
	ck_assert_int_eq(gmem_close(host->files, fd_b), 0);
	ck_assert(!sim_frame_allocated(host->hm, pfn));
	gm_vm_put(a);
	gm_vm_put(b);
	test_machine_free(host);
}
END_TEST

static int
attrs2(TestMachine *host, int fd, struct kvm_memory_attributes2 *a)
{
	return kvm_gmem_set_memory_attributes2(host->files, fd, a);
}

START_TEST(set_attributes2_refuses_bad_input_with_the_rfc_errnos)
{
	TestMachine *host = gm_host_new(1);
	GmVm *legacy = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	int legacy_fd = create(legacy, 4 * PAGE, 0), fd = create(vm, 4 * PAGE, 0);
	struct kvm_memory_attributes2 a = { .offset = 0, .size = PAGE };

	ck_assert_int_eq(attrs2(host, legacy_fd, &a), -ENOTTY);
	ck_assert_int_eq(attrs2(host, 55, &a), -EBADF);
	ck_assert_int_eq(attrs2(host, gmem_fd_install_other(host->files), &a), -ENOTTY);
	a.reserved[3] = 1;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.reserved[3] = 0;
	a.error_offset = PAGE;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.error_offset = 0;
	a.attributes = 1;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.attributes = 0;
	a.flags = KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO | KVM_SET_MEMORY_ATTRIBUTES2_MODE_PRESERVE;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.flags = 1ull << 5;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.flags = 0;
	a.size = 0;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.size = 100;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL);
	a.size = 4 * PAGE;
	a.offset = PAGE;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL); /* beyond EOF */
	a.offset = (u64)-PAGE;
	ck_assert_int_eq(attrs2(host, fd, &a), -EINVAL); /* wraps */
	a.offset = 0;
	a.size = PAGE;
	a.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	a.flags = KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO;
	ck_assert_int_eq(attrs2(host, fd, &a), -EOPNOTSUPP);
	a.flags = 0;
	/* already private (no INIT_SHARED): nothing to do */
	ck_assert_int_eq(attrs2(host, fd, &a), 0);
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERTED_TO_PRIVATE], 0);
	gm_vm_put(legacy);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(conversion_to_private_fails_eagain_while_a_page_is_pinned)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	GmemVma *vma;
	guint8 byte = 0x99, back = 0;
	struct kvm_memory_attributes2 a = { .offset = 0, .size = 4 * PAGE };

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP);
	ck_assert_int_eq(attrs2(host, vm->fd, &a), 0); /* private -> shared */
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERTED_TO_SHARED], 4);
	ck_assert_int_eq(kvm_gmem_mmap(host->files, vm->fd, 0, 4, TRUE, &vma), 0);
	ck_assert_int_eq(kvm_gmem_host_access(vma, 2 * PAGE, &byte, 1, TRUE), 0);
	ck_assert_int_eq(kvm_gmem_host_access(vma, 3 * PAGE, &byte, 1, TRUE), 0);
	SimPfn pinned = kvm_gmem_folio_pfn(host->files, vm->fd, 3);

	sim_frame_get(host->hm, pinned); /* a GUP pin the VMM holds */
	a.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	ck_assert_int_eq(attrs2(host, vm->fd, &a), -EAGAIN);
	ck_assert_uint_eq(a.error_offset, 3 * PAGE);
	ck_assert(!kvm_gmem_index_is_private(host->files, vm->fd, 0));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERT_EAGAIN], 1);
	/* the host PTEs went before the check: only the pin is left */
	ck_assert_uint_eq(sim_frame_refs(host->hm, pinned), 1);
	sim_frame_put(host->hm, pinned);
	a.error_offset = 0;
	ck_assert_int_eq(attrs2(host, vm->fd, &a), 0);
	ck_assert(kvm_gmem_index_is_private(host->files, vm->fd, 3));
	ck_assert_uint_eq(host->counters.v[SIM_CTR_GMEM_CONVERTED_TO_PRIVATE], 4);
	/* private now: the host cannot fault it back in; content is preserved */
	ck_assert_int_eq(kvm_gmem_host_access(vma, 2 * PAGE, &back, 1, FALSE),
			 GMEM_VM_FAULT_SIGBUS);
	sim_frame_read(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 2), 0, &back, 1);
	ck_assert_uint_eq(back, 0x99);
	kvm_gmem_munmap(vma);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(conversion_to_shared_with_mode_zero_clears_and_preserve_keeps)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	guint8 byte = 0x31, back = 0xff;

	gm_vm_add_gmem_slot(vm, GUEST_MEMFD_FLAG_MMAP);
	ck_assert_int_eq(gm_fault(vm, 0, 0, TRUE), RET_PF_FIXED); /* private: no INIT_SHARED */
	ck_assert_int_eq(gm_fault(vm, 0, PAGE, TRUE), RET_PF_FIXED);
	sim_frame_write(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 0), 0, &byte, 1);
	sim_frame_write(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 1), 0, &byte, 1);
	struct kvm_memory_attributes2 a = {
		.offset = 0, .size = PAGE, .flags = KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO,
	};

	ck_assert_int_eq(attrs2(host, vm->fd, &a), 0);
	ck_assert(!is_shadow_present_pte(gm_spte(vm, 0)));
	sim_frame_read(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 0), 0, &back, 1);
	ck_assert_uint_eq(back, 0);
	a.offset = PAGE;
	a.flags = KVM_SET_MEMORY_ATTRIBUTES2_MODE_PRESERVE;
	ck_assert_int_eq(attrs2(host, vm->fd, &a), 0);
	sim_frame_read(host->hm, kvm_gmem_folio_pfn(host->files, vm->fd, 1), 0, &back, 1);
	ck_assert_uint_eq(back, 0x31);
	/* the shared refault maps the same gmem folio (gmem-only slot) */
	ck_assert_int_eq(gm_fault(vm, 0, PAGE, FALSE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(vm, PAGE)),
			  kvm_gmem_folio_pfn(host->files, vm->fd, 1));
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(link_and_reboot_keep_private_content)
{
	TestMachine *host = gm_host_new(1);
	GmVm *first = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	guint8 byte = 0xc3, back = 0;

	gm_vm_add_gmem_slot(first, GUEST_MEMFD_FLAG_MMAP);
	ck_assert_int_eq(gm_fault(first, 0, 5 * PAGE, TRUE), RET_PF_FIXED);
	SimPfn pfn = kvm_gmem_folio_pfn(host->files, first->fd, 5);

	sim_frame_write(host->hm, pfn, 0, &byte, 1);
	int old_fd = first->fd;

	gm_vm_put(first); /* the VM fd goes; the gmem file keeps the VM */
	GmVm *second = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, TRUE, 1);
	struct kvm_link_guest_memfd link = { .fd = (u64)old_fd };

	second->fd = kvm_gmem_link(second->kvm, &link);
	ck_assert_int_ge(second->fd, 3);
	ck_assert_int_eq(gmem_close(host->files, old_fd), 0); /* the first VM is destroyed */
	ck_assert(sim_frame_allocated(host->hm, pfn));
	GError *error = NULL;

	ck_assert(sim_mm_mmap_anon(host->mm, GM_MEM, &second->hva, &error));
	ck_assert_int_eq(bind(second, 0, KVM_MEM_GUEST_MEMFD, 0, GM_MEM, second->fd, 0), 0);
	ck_assert_int_eq(gm_fault(second, 0, 5 * PAGE, FALSE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(second, 5 * PAGE)), pfn);
	sim_frame_read(host->hm, pfn, 0, &back, 1);
	ck_assert_uint_eq(back, 0xc3);
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(second);
	test_machine_free(host);
}
END_TEST

START_TEST(get_pfn_and_fallocate_report_exhausted_host_memory)
{
	TestMachine *host = gm_host_new(1);
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GArray *hoard = g_array_new(FALSE, FALSE, sizeof(SimPfn));
	kvm_pfn_t pfn;
	SimPfn got;

	gm_vm_add_gmem_slot(vm, 0);
	while ((got = sim_frame_alloc(host->hm)) != SIM_PFN_NONE)
		g_array_append_val(hoard, got);
	ck_assert_int_eq(kvm_gmem_get_pfn(vm->kvm, kvm_id_to_memslot(vm->kvm, 0), 1, &pfn, NULL),
			 -ENOMEM);
	ck_assert_int_eq(kvm_gmem_fallocate(host->files, vm->fd, FALLOC_FL_KEEP_SIZE, 0, PAGE),
			 -ENOMEM);
	ck_assert_int_eq(gm_set_private(vm, 0, PAGE, TRUE), 0);
	ck_assert_int_eq(gm_fault(vm, 0, 0, TRUE), -ENOMEM); /* a memory-fault exit with it */
	ck_assert_uint_eq(vm->vcpu[0]->run.exit_reason, KVM_EXIT_MEMORY_FAULT);
	for (guint i = 0; i < hoard->len; i++)
		sim_frame_free(host->hm, g_array_index(hoard, SimPfn, i));
	g_array_free(hoard, TRUE);
	gm_vm_put(vm);
	test_machine_free(host);
}
END_TEST

START_TEST(punch_hole_invalidates_every_vm_with_a_file_on_the_inode)
{
	TestMachine *host = gm_host_new(1);
	GmVm *a = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GmVm *b = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);
	GError *error = NULL;

	gm_vm_add_gmem_slot(a, 0);
	struct kvm_link_guest_memfd link = { .fd = (u64)a->fd };

	b->fd = kvm_gmem_link(b->kvm, &link);
	ck_assert(sim_mm_mmap_anon(host->mm, GM_MEM, &b->hva, &error));
	ck_assert_int_eq(bind(b, 0, KVM_MEM_GUEST_MEMFD, 0, GM_MEM, b->fd, 0), 0);
	ck_assert_int_eq(gm_set_private(a, 0, GM_MEM, TRUE), 0);
	ck_assert_int_eq(gm_set_private(b, 0, GM_MEM, TRUE), 0);
	ck_assert_int_eq(gm_fault(a, 0, 4 * PAGE, TRUE), RET_PF_FIXED);
	ck_assert_int_eq(gm_fault(b, 0, 4 * PAGE, TRUE), RET_PF_FIXED);
	ck_assert_uint_eq(spte_to_pfn(gm_spte(a, 4 * PAGE)), spte_to_pfn(gm_spte(b, 4 * PAGE)));
	unsigned long seq_a = a->kvm->mmu_invalidate_seq, seq_b = b->kvm->mmu_invalidate_seq;

	ck_assert_int_eq(kvm_gmem_fallocate(host->files, b->fd,
					    FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 4 * PAGE,
					    PAGE), 0);
	ck_assert(!is_shadow_present_pte(gm_spte(a, 4 * PAGE)));
	ck_assert(!is_shadow_present_pte(gm_spte(b, 4 * PAGE)));
	ck_assert_uint_eq(a->kvm->mmu_invalidate_seq, seq_a + 1);
	ck_assert_uint_eq(b->kvm->mmu_invalidate_seq, seq_b + 1);
	ck_assert(!sim_sched_failed(host->sched));
	gm_vm_put(a);
	gm_vm_put(b);
	test_machine_free(host);
}
END_TEST

START_TEST(destroying_a_vm_closes_the_gmem_files_of_its_own_table_first)
{
	TestMachine *host = gm_host_new(1);
	struct kvm *kvm;
	const struct kvm_create_vm_args args = { .type = KVM_X86_SW_PROTECTED_VM };
	const struct kvm_create_guest_memfd create_args = { .size = 4 * PAGE };
	guint64 hva;
	GError *error = NULL;

	ck_assert_int_eq(kvm_create_vm_with(host->sched, host->hm, host->pool, host->mm,
					    &host->counters, NULL, &args, &kvm), 0);
	int fd = kvm_gmem_create(kvm, &create_args);

	ck_assert(sim_mm_mmap_anon(host->mm, 4 * PAGE, &hva, &error));
	struct kvm_userspace_memory_region2 region = {
		.flags = KVM_MEM_GUEST_MEMFD, .memory_size = 4 * PAGE, .userspace_addr = hva,
		.guest_memfd = (u32)fd,
	};

	ck_assert_int_eq(kvm_set_memory_region(kvm, &region), 0);
	ck_assert_int_eq(kvm_gmem_fallocate(kvm->files, fd, FALLOC_FL_KEEP_SIZE, 0, PAGE), 0);
	SimPfn pfn = kvm_gmem_folio_pfn(kvm->files, fd, 0);

	ck_assert_int_eq(kvm->users_count, 2);
	kvm_destroy_vm(kvm); /* the VMM exits: its files close, then the VM goes */
	ck_assert(!sim_frame_allocated(host->hm, pfn));
	test_machine_free(host);
}
END_TEST

static Suite *
gmem_suite(void)
{
	Suite *s = suite_create("gmem");
	TCase *tc = tcase_create("uapi");

	tcase_add_test(tc, create_rejects_unknown_flags_and_bad_sizes);
	tcase_add_test(tc, vm_types_other_than_default_and_sw_protected_are_refused);
	tcase_add_test(tc, bind_checks_each_condition_with_the_kernels_errno);
	tcase_add_test(tc, gmem_slots_are_immutable_and_delete_unbinds);
	tcase_add_test(tc, get_pfn_allocates_zeroes_once_and_returns_a_reference);
	tcase_add_test(tc, get_pfn_for_a_slot_the_index_is_not_bound_to_is_eio);
	tcase_add_test(tc, get_pfn_and_fallocate_report_exhausted_host_memory);
	tcase_add_test(tc, fallocate_refuses_bad_modes_and_ranges);
	tcase_add_test(tc, punch_hole_zaps_the_private_spte_and_frees_the_folio);
	tcase_add_test(tc, punch_hole_invalidates_every_vm_with_a_file_on_the_inode);
	tcase_add_test(tc, mmap_needs_the_flag_and_a_shared_mapping);
	tcase_add_test(tc, host_faults_on_private_pages_or_beyond_eof_are_sigbus);
	tcase_add_test(tc, release_while_bound_unbinds_zaps_and_later_faults_exit_efault);
	tcase_add_test(tc, memory_lives_with_the_inode_across_linked_files);
	tcase_add_test(tc, set_attributes2_refuses_bad_input_with_the_rfc_errnos);
	tcase_add_test(tc, conversion_to_private_fails_eagain_while_a_page_is_pinned);
	tcase_add_test(tc, conversion_to_shared_with_mode_zero_clears_and_preserve_keeps);
	tcase_add_test(tc, link_and_reboot_keep_private_content);
	tcase_add_test(tc, destroying_a_vm_closes_the_gmem_files_of_its_own_table_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(gmem_suite());
}
