/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crash: a guest that goes wrong on purpose, to show how kvmsim reports it. params[0] picks how:
 * 0 divides by zero (#DE), 1 executes ud2 (#UD), 2 reads a guest-physical address outside every
 * memslot and every MMIO window. vCPU 0 does it; the others halt.
 */
#include "workloads/runtime/runtime.h"

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t quotient, divisor = 0;

	if (vcpu_id != 0)
		return;
	switch (params->params[0]) {
	case 0:
		/* a real div instruction: C lets the compiler assume a divisor is never zero */
		asm volatile("xor %%edx, %%edx; divq %2" : "=a"(quotient) : "a"(1ull), "r"(divisor)
			     : "rdx");
		guest_printf("crash: %lu\n", quotient);
		break;
	case 1:
		asm volatile("ud2");
		break;
	default:
		guest_printf("crash: %lu\n", *(volatile uint64_t *)0x800000000000ull);
		break;
	}
	guest_exit(0);
}
