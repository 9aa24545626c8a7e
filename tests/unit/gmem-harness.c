/* SPDX-License-Identifier: GPL-2.0-only */
/* VMs with guest_memfd on the MMU model alone. */
#include "tests/unit/gmem-harness.h"

#include <errno.h>

static void
no_flush(struct kvm_vcpu *vcpu)
{
}

static void
no_root_load(struct kvm_vcpu *vcpu, u64 root_pa)
{
}

static const struct kvm_hw_ops gm_hw_ops = {
	.flush_tlb_all = no_flush,
	.load_mmu_pgd = no_root_load,
};

GmHost *
gm_host_new(guint64 seed)
{
	GmHost *host = g_new0(GmHost, 1);
	GError *error = NULL;

	host->sched = sim_sched_new(seed);
	host->log = sim_log_new(host->sched);
	sim_log_capture(host->log);
	host->hm = sim_hostmem_new(4096, 16, &host->counters, &error);
	ck_assert_ptr_nonnull(host->hm);
	ck_assert(sim_hostmem_add_window(host->hm, 0, GM_MEM, &error));
	host->pool = sim_ptpool_new(512, &error);
	host->mm = sim_mm_new(host->sched, host->hm, &host->counters);
	host->files = gmem_fdtable_new();
	return host;
}

void
gm_host_free(GmHost *host)
{
	gmem_fdtable_free(host->files);
	sim_mm_free(host->mm);
	sim_ptpool_free(host->pool);
	sim_hostmem_free(host->hm);
	sim_log_free(host->log);
	sim_sched_free(host->sched);
	g_free(host);
}

GmVm *
gm_vm_new(GmHost *host, unsigned long type, gboolean in_place, int vcpus)
{
	GmVm *vm = g_new0(GmVm, 1);
	const struct kvm_create_vm_args args = {
		.type = type, .gmem_attributes = in_place, .files = host->files,
	};

	vm->host = host;
	vm->fd = -1;
	ck_assert_int_eq(kvm_create_vm_with(host->sched, host->hm, host->pool, host->mm,
					    &host->counters, &gm_hw_ops, &args, &vm->kvm), 0);
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

void
gm_vm_put(GmVm *vm)
{
	kvm_put_kvm(vm->kvm);
	g_free(vm);
}

int
gm_fault(GmVm *vm, int vcpu, gpa_t gpa, gboolean write)
{
	struct kvm_vcpu *v = vm->vcpu[vcpu];
	u64 qual = (write ? EPT_VIOLATION_ACC_WRITE : EPT_VIOLATION_ACC_READ) |
		   EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;

	kvm_vcpu_enter_guest_prepare(v);
	kvm_vcpu_srcu_read_lock(v);
	int r = kvm_handle_ept_violation(v, gpa, qual, 0x100000);

	kvm_vcpu_srcu_read_unlock(v);
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
gm_run_steps(GmHost *host, const char *steps)
{
	g_auto(GStrv) parts = g_strsplit(steps, ",", -1);
	guint n = g_strv_length(parts);
	SimStep *list = g_new0(SimStep, n);
	GError *error = NULL;

	for (guint i = 0; i < n; i++) {
		g_auto(GStrv) kv = g_strsplit(parts[i], ":", 2);

		list[i].actor = g_strdup(kv[0]);
		list[i].until = g_strdup(kv[1]);
		list[i].count = 1;
	}
	sim_sched_set_steps(host->sched, list, n, SIM_POLICY_ROUND_ROBIN);
	for (guint i = 0; i < n; i++) {
		g_free(list[i].actor);
		g_free(list[i].until);
	}
	g_free(list);
	if (!sim_sched_run(host->sched, &error))
		ck_abort_msg("schedule %s: %s", steps, error->message);
}
