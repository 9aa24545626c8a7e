/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * postcopy: the data region starts remote (kvmsim run --postcopy MECH). Every vCPU first reads
 * every page in the same order - so first touches of one page meet on several vCPUs, the case
 * where post-copy mechanisms differ - and checks both ends of each page against the seeded image
 * the VMM's source holds (sim/vmm/postcopy.c: splitmix64 of seed * golden ratio + address). Then
 * each vCPU fills its share with the pattern and all verify every page, as touch does. Passes when
 * every page held the image when first read (zeros only where the host may drop pages,
 * KVMSIM_BOOT_ZERO_OK) and nothing is corrupt after.
 */
#include "workloads/runtime/pattern.h"
#include "workloads/runtime/runtime.h"

/* The source's qword at addr (sim/vmm/postcopy.c, source_page()). */
static uint64_t image_qword(uint64_t seed, uint64_t addr)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + addr;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t nr_pages = params->ram_size / KVMSIM_PAGE_SIZE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t end = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus);
	uint64_t last_q = KVMSIM_PAGE_SIZE - 8;
	uint64_t mismatch = 0, zero = 0;
	struct pattern_tally tally = { 0 };
	uint32_t status;

	for (uint64_t p = 0; p < nr_pages; p++) {
		uint64_t gpa = params->ram_gpa + p * KVMSIM_PAGE_SIZE;
		uint64_t a = *(volatile uint64_t *)(uintptr_t)gpa;
		uint64_t b = *(volatile uint64_t *)(uintptr_t)(gpa + last_q);

		if (a == image_qword(params->seed, gpa) && b == image_qword(params->seed, gpa + last_q))
			continue;
		if (a == 0 && b == 0)
			zero++;
		else
			mismatch++;
	}
	guest_atomic_max(&params->shared[2], mismatch);
	guest_atomic_max(&params->shared[3], zero);
	guest_barrier(params);
	pattern_fill(params->ram_gpa + first * KVMSIM_PAGE_SIZE, end - first, params->seed);
	guest_barrier(params);
	pattern_check(params->ram_gpa, nr_pages, params->seed, &tally);
	status = pattern_merge(params, &tally);
	if (vcpu_id != 0)
		return;
	mismatch = params->shared[2];
	zero = params->shared[3];
	if (mismatch || (zero && !(params->flags & KVMSIM_BOOT_ZERO_OK)))
		status = 1;
	guest_printf("postcopy: pages=%lu image_mismatch=%lu image_zero=%lu checksum=0x%016lx "
		     "dropped=%lu corrupt=%lu result=%s\n", nr_pages, mismatch, zero, tally.checksum,
		     tally.dropped, tally.corrupt, status ? "fail" : "pass");
	guest_exit(status);
}
