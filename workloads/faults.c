/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faults: a demand-fault benchmark. Every vCPU stores one qword into each page of its share of the
 * data region, once, so every store is a first touch: one EPT violation per page.
 */
#include "workloads/runtime/runtime.h"

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t nr_pages = params->ram_size / KVMSIM_PAGE_SIZE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t end = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus);

	for (uint64_t page = first; page < end; page++) {
		uint64_t gpa = params->ram_gpa + page * KVMSIM_PAGE_SIZE;

		*(volatile uint64_t *)(uintptr_t)gpa = gpa;
	}
	guest_barrier(params);
	if (vcpu_id != 0)
		return;
	guest_printf("faults: pages=%lu\n", nr_pages);
	guest_exit(0);
}
