/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stress: rounds of "every vCPU rewrites one chunk of the data region, then every vCPU checks all
 * of it", with the chunk each vCPU writes moving by one every round, while the host migrates or
 * drops pages underneath. params[0] = rounds (default 8).
 */
#include "workloads/runtime/pattern.h"
#include "workloads/runtime/runtime.h"

#define DEFAULT_ROUNDS 8

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t rounds = params->params[0] ? params->params[0] : DEFAULT_ROUNDS;
	uint64_t nr_pages = params->ram_size / KVMSIM_PAGE_SIZE;
	uint32_t nr_vcpus = params->nr_vcpus;
	struct pattern_tally tally = { 0 };
	uint32_t status;

	for (uint64_t round = 0; round < rounds; round++) {
		uint32_t chunk = (uint32_t)((vcpu_id + round) % nr_vcpus);
		uint64_t first = guest_share_first(nr_pages, chunk, nr_vcpus);
		uint64_t end = guest_share_first(nr_pages, chunk + 1, nr_vcpus);
		/* A new salt every round: a page left over from an earlier round is corrupt. */
		uint64_t salt = params->seed + round;

		pattern_fill(params->ram_gpa + first * KVMSIM_PAGE_SIZE, end - first, salt);
		guest_barrier(params);
		pattern_check(params->ram_gpa, nr_pages, salt, &tally);
		guest_barrier(params);
	}
	status = pattern_merge(params, &tally);
	if (vcpu_id != 0)
		return;
	guest_printf("stress: rounds=%lu pages=%lu checksum=0x%016lx dropped=%lu corrupt=%lu "
		     "result=%s\n",
		     rounds, nr_pages, tally.checksum, tally.dropped, tally.corrupt,
		     status ? "fail" : "pass");
	guest_exit(status);
}
