/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmio: talks to the VMM's test device. Reads the ID register, then writes the scratch register
 * and reads it back, with 8-byte and 4-byte plain movs (register and immediate sources), which is
 * what the simulator emulates. Only vCPU 0 runs it.
 */
#include "workloads/runtime/runtime.h"

#define SCRATCH64 0x0123456789abcdefull /* no 32-bit immediate form: stored from a register */
#define SCRATCH32 0xfeedf00du         /* stored as an immediate */

/*
 * The device register at offset, as a pointer the compiler must keep in a register: a constant
 * address above 2 GiB would otherwise become a movabs with a 64-bit absolute address.
 */
static volatile void *mmio_reg(uint64_t offset)
{
	uintptr_t gpa = KVMSIM_MMIO_GPA + offset;

	asm("" : "+r"(gpa));
	return (volatile void *)gpa;
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	volatile uint64_t *id = mmio_reg(KVMSIM_MMIO_REG_ID);
	volatile uint64_t *scratch64 = mmio_reg(KVMSIM_MMIO_REG_SCRATCH);
	volatile uint32_t *scratch32 = mmio_reg(KVMSIM_MMIO_REG_SCRATCH);
	uint64_t id_value, got64;
	uint32_t got32;
	int pass;

	if (vcpu_id != 0)
		return;
	id_value = *id;
	*scratch64 = SCRATCH64;
	got64 = *scratch64;
	*scratch32 = SCRATCH32;
	got32 = *scratch32;
	pass = id_value == KVMSIM_MMIO_ID && got64 == SCRATCH64 && got32 == SCRATCH32;
	guest_printf("mmio: id=0x%lx scratch64=0x%016lx scratch32=0x%08x result=%s\n", id_value,
		     got64, got32, pass ? "pass" : "fail");
	guest_exit(pass ? 0 : 1);
}
