/* SPDX-License-Identifier: GPL-2.0-only */
/* A VM on the MMU model alone (no CPU emulator), for tests that drive exits directly. */
#ifndef KVMSIM_TESTS_UNIT_HARNESS_H
#define KVMSIM_TESTS_UNIT_HARNESS_H

#include <check.h>

#include "gmem/gmem.h"
#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"

#define TEST_MAX_VCPUS 4

/* What VMs run on: the scheduler, the event log (captured), host memory with one window at
 * physical 0, the page-table pool, the host mm and the VMM process's open files. */
typedef struct {
	SimCounters counters;
	SimSched *sched;
	SimLog *log;
	SimHostMem *hm;
	SimPtPool *pool;
	SimMm *mm;
	GmemFdTable *files;
} TestMachine;

/* A host with frames frames and a window [0, window) of host memory. */
TestMachine *test_machine_new(guint64 seed, guint frames, guint64 window);
void test_machine_free(TestMachine *host);

/* Run with an explicit schedule "actor:until[,actor:until...]"; fails the test on error. */
void test_machine_run_steps(TestMachine *host, const char *steps);

/* hw ops for VMs with no CPU emulator below: nothing to flush or load. */
extern const struct kvm_hw_ops test_nop_hw_ops;

/* One EPT violation, as the exit handler would take it (requests served first, srcu held
 * around it). */
int test_vcpu_fault(struct kvm_vcpu *vcpu, gpa_t gpa, gboolean write);

typedef struct {
	TestMachine *host;
	struct kvm *kvm;
	struct kvm_vcpu *vcpu[TEST_MAX_VCPUS];
	int nr_vcpus;
	guint64 hva;                 /* userspace address of memslot 0 (gpa 0) */
	guint64 mem_size;
	guint flushes[TEST_MAX_VCPUS]; /* flush_tlb_all calls per vCPU */
	guint root_loads[TEST_MAX_VCPUS]; /* load_mmu_pgd calls per vCPU */
} TestVm;

/* A VM with one memslot [0, mem_size) backed by anonymous memory; the log is captured. */
TestVm *test_vm_new(guint64 seed, int nr_vcpus, guint64 mem_size);
void test_vm_free(TestVm *vm);

/* One EPT violation, as the exit handler would take it (srcu held around it). */
int test_vm_fault(TestVm *vm, int vcpu, gpa_t gpa, gboolean write);

/* An actor that takes one EPT violation and stores the result. */
typedef struct {
	TestVm *vm;
	int vcpu;
	gpa_t gpa;
	gboolean write;
	int result;
} TestFault;
void test_fault_actor(SimActor *actor, gpointer data);

/* An actor that runs a host mm operation on the page at gpa. */
typedef enum { TEST_HOST_DONTNEED, TEST_HOST_MIGRATE, TEST_HOST_AGE } TestHostOp;
typedef struct {
	TestVm *vm;
	TestHostOp op;
	gpa_t gpa;
	int result;
} TestHost;
void test_host_actor(SimActor *actor, gpointer data);

/* test_machine_run_steps() on the VM's host. */
void test_vm_run_steps(TestVm *vm, const char *steps);

/* The leaf SPTE for gpa (SHADOW_NONPRESENT_VALUE if none). */
u64 test_vm_spte(TestVm *vm, gpa_t gpa);

#endif
