/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest runtime: what a freestanding guest program may call, besides the C library subset of
 * workloads/runtime/libc.h. The simulator owns paging; _start enables SSE (CR0.MP, CR4.OSFXSR and
 * OSXMMEXCPT) on every vCPU, so guest code may use it (the runtime itself does not).
 *
 * A guest program defines guest_main(). Every vCPU enters it concurrently; returning halts that
 * vCPU for good, guest_exit() ends the whole run.
 */
#ifndef KVMSIM_WORKLOADS_RUNTIME_H
#define KVMSIM_WORKLOADS_RUNTIME_H

#include <stdint.h>

#include "workloads/abi.h"

/* The program's entry, called on every vCPU by _start. */
void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params);

/* Print one character on the console (port KVMSIM_PORT_CONSOLE). */
static inline void guest_putc(char c)
{
	asm volatile("outb %0, %1" : : "a"(c), "Nd"((uint16_t)KVMSIM_PORT_CONSOLE));
}

/* Print a NUL-terminated string on the console, without adding a newline. */
void guest_puts(const char *s);

/* printf for the console, with the conversions of vsnprintf() (workloads/runtime/libc.h). */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* End the whole run with status (0 = pass); never returns. */
void guest_exit(uint32_t status) __attribute__((noreturn));

/* Stop this vCPU for good; the others keep running. */
void guest_halt(void) __attribute__((noreturn));

/* A hypercall with KVM's ABI: nr in RAX, a0..a3 in RBX, RCX, RDX, RSI; the result in RAX. */
static inline long guest_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	long ret;

	asm volatile("vmcall"
		     : "=a"(ret)
		     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
		     : "memory");
	return ret;
}

/* The string given with `kvmsim run --arg STRING` ("" without one). */
static inline const char *guest_arg(const struct kvmsim_boot_params *params)
{
	return (const char *)(uintptr_t)params->arg_gpa;
}

/* The time stamp counter: plain rdtsc, so what it counts is whatever kvmsim's vCPUs make it. */
static inline uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Let the simulator run another vCPU: call this in every spin loop. */
static inline void guest_sched_yield(void)
{
	guest_hypercall(KVM_HC_SCHED_YIELD, 0, 0, 0, 0);
}

/* Wait until all params->nr_vcpus vCPUs have arrived; reusable any number of times. */
void guest_barrier(struct kvmsim_boot_params *params);

/* Raise *p to v if v is larger, atomically across vCPUs. */
void guest_atomic_max(uint64_t *p, uint64_t v);

/* The first page of vCPU vcpu_id's share when nr_pages are split evenly among all vCPUs. */
static inline uint64_t guest_share_first(uint64_t nr_pages, uint32_t vcpu_id, uint32_t nr_vcpus)
{
	return nr_pages * vcpu_id / nr_vcpus;
}

#endif
