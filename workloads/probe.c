/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * probe: a window on one page's translation. vCPU 0 writes a known value to the first qword of
 * the data region, then reads it back params[0] times (default 6), reporting every value it read
 * on port 0x80 (it shows in the event log as kvm_pio). With a tiny --quantum each read is one
 * guest run, so a schedule can put host events between two reads: a read through a zapped but
 * not yet flushed translation still sees the old value, one after the flush refaults.
 */
#include "workloads/runtime/runtime.h"

#define PROBE_PORT 0x80
#define PROBE_VALUE 0x1122334455667788ull
#define DEFAULT_READS 6

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	volatile uint64_t *slot = (volatile uint64_t *)(uintptr_t)params->ram_gpa;
	uint64_t reads = params->params[0] ? params->params[0] : DEFAULT_READS;

	if (vcpu_id != 0)
		return;
	*slot = PROBE_VALUE;
	for (uint64_t i = 0; i < reads; i++) {
		uint32_t low = (uint32_t)*slot;

		asm volatile("outl %0, %1" : : "a"(low), "Nd"((uint16_t)PROBE_PORT));
	}
	guest_exit(0);
}
