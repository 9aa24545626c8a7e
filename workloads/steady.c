/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steady: guest speed with no exits once warm. vCPU 0 runs params[0] iterations (default 10
 * million: about 0.6 s on Unicorn 2.0.1, where every store costs ~45 ns) of ALU work plus a load
 * and a store into a working set of 16 pages of the data region, small enough to stay in the TLB;
 * the other vCPUs halt. Prints a checksum that depends only on the seed and the iteration count.
 */
#include "workloads/runtime/runtime.h"

#define DEFAULT_ITERATIONS 10000000ull
#define WORKING_SET_PAGES 16
#define WORKING_SET_QWORDS (WORKING_SET_PAGES * KVMSIM_PAGE_SIZE / sizeof(uint64_t))

/* The loop itself: a 64-bit LCG picks the qword, which is read, mixed in and written back. */
static uint64_t run(uint64_t *ws, uint64_t iterations, uint64_t seed)
{
	uint64_t x = seed, acc = 0;

	for (uint64_t i = 0; i < iterations; i++) {
		uint64_t slot;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		slot = (x >> 33) & (WORKING_SET_QWORDS - 1);
		acc = (acc ^ ws[slot]) + x;
		acc = (acc << 13) | (acc >> 51);
		ws[slot] = acc;
	}
	return acc;
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t iterations = params->params[0] ? params->params[0] : DEFAULT_ITERATIONS;
	uint64_t *ws = (uint64_t *)(uintptr_t)params->ram_gpa;

	if (vcpu_id != 0)
		return;
	if (params->ram_size < WORKING_SET_PAGES * KVMSIM_PAGE_SIZE) {
		guest_printf("steady: needs %u pages of ram\n", WORKING_SET_PAGES);
		guest_exit(1);
	}
	/* Warm-up: the only faults of the run, one per working-set page. */
	for (uint64_t i = 0; i < WORKING_SET_QWORDS; i++)
		ws[i] = i;
	guest_printf("steady: iterations=%lu checksum=0x%016lx\n", iterations,
		     run(ws, iterations, params->seed));
	guest_exit(0);
}
