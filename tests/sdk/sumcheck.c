/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest built outside the tree with the kvmsim SDK only (tests/sdk/test-sdk.sh builds it with
 * the system gcc and pkg-config): each vCPU fills a table in .data, one in .bss and one on its
 * stack, then checks them over and over while the host migrates pages under it, with SSE
 * arithmetic, snprintf and the C library subset. --arg "overflow" recurses until the stack runs
 * into its guard instead.
 */
#include <kvmsim-guest.h>

#define WORDS 2048 /* 16 KiB: four pages */
#define ROUNDS 40

static uint64_t data_table[KVMSIM_MAX_VCPUS][WORDS] = { { 1 } }; /* in .data */
static uint64_t bss_table[KVMSIM_MAX_VCPUS][WORDS];               /* in .bss */
static char banner[64];

/* Deeper and deeper, 1 KiB of stack a call, until the guard below the stack stops it. */
static uint64_t recurse(volatile uint64_t depth)
{
	volatile uint8_t frame[1024];

	frame[depth % sizeof(frame)] = (uint8_t)depth;
	return recurse(depth + 1) + frame[0];
}

static uint64_t value(uint32_t vcpu_id, uint64_t i, uint64_t round)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)vcpu_id << 48) ^ round;
}

/* Fill all three tables for this round, then read them back; the number of words that differ. */
static uint64_t pass(uint32_t vcpu_id, uint64_t *stack_table, uint64_t round)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < WORDS; i++) {
		data_table[vcpu_id][i] = value(vcpu_id, i, round);
		bss_table[vcpu_id][i] = ~value(vcpu_id, i, round);
		stack_table[i] = value(vcpu_id, i, round) + 1;
	}
	for (uint64_t i = 0; i < WORDS; i++) {
		bad += data_table[vcpu_id][i] != value(vcpu_id, i, round);
		bad += bss_table[vcpu_id][i] != ~value(vcpu_id, i, round);
		bad += stack_table[i] != value(vcpu_id, i, round) + 1;
	}
	return bad;
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t stack_table[WORDS];
	uint64_t bad = 0;
	double mean = 0.0; /* SSE: the runtime enabled it */

	if (strcmp(guest_arg(params), "overflow") == 0)
		guest_exit((uint32_t)recurse(0));
	for (uint64_t round = 0; round < ROUNDS; round++) {
		bad += pass(vcpu_id, stack_table, round);
		mean += (double)(bad + round) / ROUNDS;
	}
	guest_barrier(params);
	if (vcpu_id != 0)
		return;
	snprintf(banner, sizeof(banner), "arg=%s len=%zu", guest_arg(params),
		 strlen(guest_arg(params)));
	guest_printf("sumcheck: %s\n", banner);
	guest_printf("sumcheck: vcpus=%u rounds=%d mean=%d bad=%lu\n", params->nr_vcpus, ROUNDS,
		     (int)(mean * 100.0), bad);
	guest_printf("sumcheck: result=%s\n", bad ? "fail" : "pass");
	guest_exit(bad != 0);
}
