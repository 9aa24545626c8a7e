/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * touch: every vCPU fills its share of the data region with a per-page pattern, then every vCPU
 * reads back and checks the whole region. Passes when no page is corrupt and none was dropped
 * (unless KVMSIM_BOOT_ZERO_OK). The checksum depends only on the seed when nothing was dropped.
 */
#include "workloads/runtime/pattern.h"
#include "workloads/runtime/runtime.h"

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t nr_pages = params->ram_size / KVMSIM_PAGE_SIZE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t end = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus);
	struct pattern_tally tally = { 0 };
	uint32_t status;

	pattern_fill(params->ram_gpa + first * KVMSIM_PAGE_SIZE, end - first, params->seed);
	guest_barrier(params);
	pattern_check(params->ram_gpa, nr_pages, params->seed, &tally);
	status = pattern_merge(params, &tally);
	if (vcpu_id != 0)
		return;
	guest_printf("touch: pages=%lu checksum=0x%016lx dropped=%lu corrupt=%lu result=%s\n",
		     tally.pages, tally.checksum, tally.dropped, tally.corrupt,
		     status ? "fail" : "pass");
	guest_exit(status);
}
