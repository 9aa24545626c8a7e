/* SPDX-License-Identifier: GPL-2.0-only */
/* VMs with guest_memfd on the MMU model alone. */
#include "tests/unit/gmem-harness.h"

#include <errno.h>

TestMachine *
gm_host_new(guint64 seed)
{
	return test_machine_new(seed, 4096, GM_MEM);
}

GmVm *
gm_vm_new(TestMachine *host, unsigned long type, gboolean in_place, int vcpus)
{
	GmVm *vm = g_new0(GmVm, 1);
	const struct kvm_create_vm_args args = {
		.type = type, .gmem_attributes = in_place, .files = host->files,
	};

	vm->host = host;
	vm->fd = -1;
	ck_assert_int_eq(kvm_create_vm_with(host->sched, host->hm, host->pool, host->mm,
					    &host->counters, &test_nop_hw_ops, &args, &vm->kvm), 0);
	vm->nr_vcpus = vcpus;
	for (int i = 0; i < vcpus; i++) {
		vm->vcpu[i] = kvm_vm_ioctl_create_vcpu(vm->kvm, i, vm);
		kvm_mmu_load(vm->vcpu[i]);
	}
	return vm;
}

static void
add_slot(GmVm *vm, u32 flags)
{
	GError *error = NULL;

	ck_assert(sim_mm_mmap_anon(vm->host->mm, GM_MEM, &vm->hva, &error));
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.flags = flags,
		.memory_size = GM_MEM,
		.userspace_addr = vm->hva,
		.guest_memfd = (u32)vm->fd,
	};

	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
}

void
gm_vm_add_gmem_slot(GmVm *vm, u64 gmem_flags)
{
	const struct kvm_create_guest_memfd args = { .size = GM_MEM, .flags = gmem_flags };

	vm->fd = kvm_gmem_create(vm->kvm, &args);
	ck_assert_int_ge(vm->fd, 3);
	add_slot(vm, KVM_MEM_GUEST_MEMFD);
}

void
gm_vm_add_anon_slot(GmVm *vm)
{
	add_slot(vm, 0);
}

GmVm *
gm_private_vm(TestMachine *host)
{
	GmVm *vm = gm_vm_new(host, KVM_X86_SW_PROTECTED_VM, FALSE, 1);

	gm_vm_add_gmem_slot(vm, 0);
	ck_assert_int_eq(gm_set_private(vm, 0, GM_MEM, TRUE), 0);
	return vm;
}

void
gm_vm_put(GmVm *vm)
{
	kvm_put_kvm(vm->kvm);
	g_free(vm);
}

int
gm_fault(GmVm *vm, int vcpu, gpa_t gpa, gboolean write)
{
	int r = test_vcpu_fault(vm->vcpu[vcpu], gpa, write);

	kvm_gmem_task_work_run(vm->kvm); /* KVM_RUN returns to user mode */
	return r;
}

u64
gm_spte(GmVm *vm, gpa_t gpa)
{
	return kvm_tdp_mmu_leaf_spte(vm->kvm, gpa >> PAGE_SHIFT, NULL);
}

int
gm_set_private(GmVm *vm, gpa_t gpa, u64 size, gboolean private)
{
	const struct kvm_memory_attributes attrs = {
		.address = gpa,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	return kvm_vm_ioctl_set_mem_attributes(vm->kvm, &attrs);
}

void
gm_fault_actor(SimActor *actor, gpointer data)
{
	GmFault *f = data;

	f->result = gm_fault(f->vm, f->vcpu, f->gpa, f->write);
}

static int
convert(GmVm *vm, gpa_t gpa, gboolean private)
{
	struct kvm_memory_attributes2 attrs = {
		.offset = gpa,
		.size = PAGE_SIZE,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	return kvm_gmem_set_memory_attributes2(vm->host->files, vm->fd, &attrs);
}

void
gm_vmm_actor(SimActor *actor, gpointer data)
{
	GmVmm *v = data;

	switch (v->op) {
	case GM_PUNCH:
		v->result = kvm_gmem_fallocate(v->vm->host->files, v->vm->fd,
					       FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, v->gpa,
					       PAGE_SIZE);
		break;
	case GM_SET_SHARED:
	case GM_SET_PRIVATE:
		v->result = gm_set_private(v->vm, v->gpa, PAGE_SIZE, v->op == GM_SET_PRIVATE);
		break;
	case GM_CONVERT_SHARED:
	case GM_CONVERT_PRIVATE:
		v->result = convert(v->vm, v->gpa, v->op == GM_CONVERT_PRIVATE);
		break;
	case GM_CLOSE:
		v->result = gmem_close(v->vm->host->files, v->vm->fd);
		break;
	}
}

void
gm_race(TestMachine *host, GmFault *fault, GmVmm *vmm)
{
	sim_actor_new(host->sched, "vcpu0", gm_fault_actor, fault);
	sim_actor_new(host->sched, "vmm", gm_vmm_actor, vmm);
}
