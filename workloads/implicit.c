/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * implicit: conversions the guest never asks for. The vCPUs keep storing to and loading from the
 * same small set of pages (each vCPU its own qword of every page) and make no MAP_GPA_RANGE
 * call, while the host converts those pages (--host-events convert=N): every conversion the VMM
 * makes on the guest's behalf is an implicit one, through KVM_EXIT_MEMORY_FAULT.
 *
 * On a KVM_X86_SW_PROTECTED_VM the access type is not the guest's to choose: v6.18's
 * kvm_mmu_page_fault() (arch/x86/kvm/mmu/mmu.c, read in ColinIanKing/linux-next) sets
 * PFERR_PRIVATE_ACCESS from the gfn's attribute as the fault begins, so a memory-fault exit comes
 * when a conversion lands between that and kvm_mmu_faultin_pfn()'s check. The VMM then converts
 * the page back to what the access was (QEMU's kvm_handle_memory_fault()), and the guest's store
 * or load runs again.
 *
 * What a load may return: the value this vCPU stored last, or zero when a conversion or a hole
 * punch discarded the page (legacy conversions discard; KVMSIM_BOOT_HOST_CONVERTS); anything
 * else is corrupt. params[0] = passes over the pages (2000), params[1] = pages (16).
 *
 * No hypercall at all: the vCPUs meet at the end by spinning (the preemption quantum lets the
 * others run), not in guest_barrier(), which yields with KVM_HC_SCHED_YIELD.
 */
#include "workloads/runtime/runtime.h"

#define PAGE ((uint64_t)KVMSIM_PAGE_SIZE)
#define DEFAULT_PASSES 2000
#define DEFAULT_PAGES 16

enum { SHARED_CORRUPT = 2, SHARED_LOST, SHARED_OK, SHARED_ARRIVED };

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t passes = params->params[0] ? params->params[0] : DEFAULT_PASSES;
	uint64_t want = params->params[1] ? params->params[1] : DEFAULT_PAGES;
	uint64_t max = params->ram_size / PAGE;
	uint64_t npages = want < max ? want : max;
	int lenient = params->flags & (KVMSIM_BOOT_HOST_CONVERTS | KVMSIM_BOOT_ZERO_OK);
	uint64_t ok = 0, lost = 0, corrupt = 0;

	if (!(params->flags & KVMSIM_BOOT_PRIVATE_MEM)) {
		if (vcpu_id == 0) {
			guest_printf("implicit: needs --vm-type sw-protected result=fail\n");
			guest_exit(1);
		}
		return;
	}
	for (uint64_t pass = 0; pass < passes; pass++) {
		for (uint64_t i = 0; i < npages; i++) {
			/* each vCPU walks the pages from its own end, so they meet mid-way */
			uint64_t page = vcpu_id & 1 ? npages - 1 - i : i;
			volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)(params->ram_gpa +
				page * PAGE) + vcpu_id;
			uint64_t value = (pass + 1) << 32 | (page << 8) | vcpu_id;
			uint64_t got;

			*q = value;
			got = *q;
			if (got == value)
				ok++;
			else if (got == 0 && lenient)
				lost++;
			else {
				if (!corrupt)
					guest_printf("implicit: vcpu %u page %lu read 0x%lx after storing "
						     "0x%lx\n", vcpu_id, page, got, value);
				corrupt++;
			}
		}
	}
	__atomic_add_fetch(&params->shared[SHARED_CORRUPT], corrupt, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_LOST], lost, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_OK], ok, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_ARRIVED], 1, __ATOMIC_RELEASE);
	if (vcpu_id != 0)
		return;
	while (__atomic_load_n(&params->shared[SHARED_ARRIVED], __ATOMIC_ACQUIRE) < params->nr_vcpus)
		asm volatile("pause");
	corrupt = params->shared[SHARED_CORRUPT];
	guest_printf("implicit: passes=%lu pages=%lu ok=%lu lost=%lu corrupt=%lu result=%s\n",
		     passes, npages, params->shared[SHARED_OK], params->shared[SHARED_LOST],
		     corrupt, corrupt ? "fail" : "pass");
	guest_exit(corrupt ? 1 : 0);
}
