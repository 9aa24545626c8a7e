/* SPDX-License-Identifier: GPL-2.0-only */
/* A VM on the MMU model alone, for unit tests. */
#include "tests/unit/harness.h"

static void
count_flush(struct kvm_vcpu *vcpu)
{
	TestVm *vm = vcpu->hw;

	vm->flushes[vcpu->vcpu_id]++;
}

static void
count_root_load(struct kvm_vcpu *vcpu, u64 root_pa)
{
	TestVm *vm = vcpu->hw;

	vm->root_loads[vcpu->vcpu_id]++;
}

static const struct kvm_hw_ops test_hw_ops = {
	.flush_tlb_all = count_flush,
	.load_mmu_pgd = count_root_load,
};

static void
no_flush(struct kvm_vcpu *vcpu)
{
}

static void
no_root_load(struct kvm_vcpu *vcpu, u64 root_pa)
{
}

const struct kvm_hw_ops test_nop_hw_ops = {
	.flush_tlb_all = no_flush,
	.load_mmu_pgd = no_root_load,
};

TestMachine *
test_machine_new(guint64 seed, guint frames, guint64 window)
{
	TestMachine *host = g_new0(TestMachine, 1);
	GError *error = NULL;

	host->sched = sim_sched_new(seed);
	host->log = sim_log_new(host->sched);
	sim_log_capture(host->log);
	host->hm = sim_hostmem_new(frames, 16, &host->counters, &error);
	ck_assert_ptr_nonnull(host->hm);
	ck_assert(sim_hostmem_add_window(host->hm, 0, window, &error));
	host->pool = sim_ptpool_new(512, &error);
	host->mm = sim_mm_new(host->sched, host->hm, &host->counters);
	host->files = gmem_fdtable_new();
	return host;
}

void
test_machine_free(TestMachine *host)
{
	gmem_fdtable_free(host->files);
	sim_mm_free(host->mm);
	sim_ptpool_free(host->pool);
	sim_hostmem_free(host->hm);
	sim_log_free(host->log);
	sim_sched_free(host->sched);
	g_free(host);
}

TestVm *
test_vm_new(guint64 seed, int nr_vcpus, guint64 mem_size)
{
	TestVm *vm = g_new0(TestVm, 1);
	GError *error = NULL;
	TestMachine *host = test_machine_new(seed, 4096, mem_size);

	vm->host = host;
	vm->mem_size = mem_size;
	vm->kvm = kvm_create_vm(host->sched, host->hm, host->pool, host->mm, &host->counters,
				&test_hw_ops);
	ck_assert(sim_mm_mmap_anon(host->mm, mem_size, &vm->hva, &error));
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = vm->hva,
	};
	ck_assert_int_eq(kvm_set_memory_region(vm->kvm, &region), 0);
	vm->nr_vcpus = nr_vcpus;
	for (int i = 0; i < nr_vcpus; i++) {
		vm->vcpu[i] = kvm_vm_ioctl_create_vcpu(vm->kvm, i, vm);
		kvm_mmu_load(vm->vcpu[i]);
	}
	return vm;
}

void
test_vm_free(TestVm *vm)
{
	kvm_destroy_vm(vm->kvm);
	test_machine_free(vm->host);
	g_free(vm);
}

int
test_vcpu_fault(struct kvm_vcpu *vcpu, gpa_t gpa, gboolean write)
{
	u64 qual = (write ? EPT_VIOLATION_ACC_WRITE : EPT_VIOLATION_ACC_READ) |
		   EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;

	kvm_vcpu_enter_guest_prepare(vcpu);
	kvm_vcpu_srcu_read_lock(vcpu);
	int r = kvm_handle_ept_violation(vcpu, gpa, qual, 0x100000);

	kvm_vcpu_srcu_read_unlock(vcpu);
	return r;
}

int
test_vm_fault(TestVm *vm, int vcpu, gpa_t gpa, gboolean write)
{
	return test_vcpu_fault(vm->vcpu[vcpu], gpa, write);
}

void
test_fault_actor(SimActor *actor, gpointer data)
{
	TestFault *f = data;

	f->result = test_vm_fault(f->vm, f->vcpu, f->gpa, f->write);
}

void
test_host_actor(SimActor *actor, gpointer data)
{
	TestHost *h = data;
	guint64 hva = h->vm->hva + h->gpa;

	switch (h->op) {
	case TEST_HOST_DONTNEED:
		h->result = sim_mm_dontneed(h->vm->host->mm, hva, SIM_PAGE_SIZE);
		break;
	case TEST_HOST_MIGRATE:
		h->result = sim_mm_migrate_page(h->vm->host->mm, hva);
		break;
	case TEST_HOST_AGE:
		h->result = sim_mm_age(h->vm->host->mm, hva, SIM_PAGE_SIZE, NULL);
		break;
	}
}

void
test_vm_run_steps(TestVm *vm, const char *steps)
{
	test_machine_run_steps(vm->host, steps);
}

void
test_machine_run_steps(TestMachine *host, const char *steps)
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

u64
test_vm_spte(TestVm *vm, gpa_t gpa)
{
	return kvm_tdp_mmu_leaf_spte(vm->kvm, gpa >> PAGE_SHIFT, NULL);
}
