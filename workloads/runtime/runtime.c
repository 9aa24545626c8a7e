/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest runtime: console output, ending the run, and synchronisation between vCPUs. */
#include <stdarg.h>
#include <stdbool.h>

#include "workloads/runtime/libc.h"
#include "workloads/runtime/runtime.h"

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

static void emit_console(char c, void *data)
{
	guest_putc(c);
}

void guest_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vformat(emit_console, NULL, fmt, ap);
	va_end(ap);
}

void guest_exit(uint32_t status)
{
	asm volatile("outl %0, %1" : : "a"(status), "Nd"((uint16_t)KVMSIM_PORT_EXIT));
	guest_halt();
}

void guest_halt(void)
{
	for (;;)
		asm volatile("hlt");
}

/*
 * A generation barrier: read the generation before arriving, so the last vCPU to arrive can reset
 * the count and then bump the generation without a vCPU of the next round slipping in between.
 */
void guest_barrier(struct kvmsim_boot_params *params)
{
	uint64_t generation = __atomic_load_n(&params->barrier_generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&params->barrier_count, 1, __ATOMIC_ACQ_REL) == params->nr_vcpus) {
		__atomic_store_n(&params->barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&params->barrier_generation, generation + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&params->barrier_generation, __ATOMIC_ACQUIRE) == generation)
		guest_sched_yield();
}

void guest_atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v &&
	       !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}
