/* SPDX-License-Identifier: GPL-2.0-only */
/* VMs with guest_memfd on the MMU model alone (no CPU emulator), for the gmem suites. */
#ifndef KVMSIM_TESTS_UNIT_GMEM_HARNESS_H
#define KVMSIM_TESTS_UNIT_GMEM_HARNESS_H

#include "tests/unit/harness.h"

#define GM_MEM (64u * 4096u)  /* one memslot at gpa 0, bound to a gmem file of the same size */
#define GM_MAX_VCPUS 2

typedef struct {
	TestMachine *host;
	struct kvm *kvm;
	struct kvm_vcpu *vcpu[GM_MAX_VCPUS];
	int nr_vcpus;
	guint64 hva;                  /* anonymous memory behind slot 0 (the legacy shared half) */
	int fd;                       /* the guest_memfd bound to slot 0, or -1 */
} GmVm;

/* A host whose window holds GM_MEM. */
TestMachine *gm_host_new(guint64 seed);
/* A VM of type with vcpus vCPUs (no memslot yet); in_place selects gmem attributes. */
GmVm *gm_vm_new(TestMachine *host, unsigned long type, gboolean in_place, int vcpus);
/* A gmem fd of GM_MEM bytes with flags, bound to slot 0 at gpa 0 (with anon memory at hva). */
void gm_vm_add_gmem_slot(GmVm *vm, u64 gmem_flags);
/* Slot 0 as plain anonymous memory. */
void gm_vm_add_anon_slot(GmVm *vm);
/* A legacy SW-protected VM with one vCPU whose slot 0 is a guest_memfd (flags 0), all private. */
GmVm *gm_private_vm(TestMachine *host);
/* Close the VM fd (kvm_put_kvm()); the VM is destroyed once no gmem file holds it. */
void gm_vm_put(GmVm *vm);

/* One EPT violation (srcu held around it, requests served first), then the return to user
 * mode (task work). */
int gm_fault(GmVm *vm, int vcpu, gpa_t gpa, gboolean write);
u64 gm_spte(GmVm *vm, gpa_t gpa);
int gm_set_private(GmVm *vm, gpa_t gpa, u64 size, gboolean private);

/* Actors. */
typedef struct {
	GmVm *vm;
	int vcpu;
	gpa_t gpa;
	gboolean write;
	int result;
} GmFault;
void gm_fault_actor(SimActor *actor, gpointer data);

typedef enum { GM_PUNCH, GM_SET_SHARED, GM_SET_PRIVATE, GM_CONVERT_SHARED, GM_CONVERT_PRIVATE,
	       GM_CLOSE } GmOp;
typedef struct {
	GmVm *vm;
	GmOp op;
	gpa_t gpa;  /* a page; gpa == file offset for slot 0 */
	int result;
} GmVmm;
void gm_vmm_actor(SimActor *actor, gpointer data);
/* The two actors of a race: "vcpu0" takes fault, "vmm" performs vmm. */
void gm_race(TestMachine *host, GmFault *fault, GmVmm *vmm);

#endif
