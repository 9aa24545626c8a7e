/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The async page fault guest runtime: an IDT with a #PF handler and a 'page ready' interrupt
 * handler, KVM's PV async PF enabled through its MSRs (when the VMM offers it:
 * KVMSIM_BOOT_ASYNC_PF), and a tiny cooperative scheduler of tasks per vCPU, so that a vCPU runs
 * another task while a page is in flight. A program linked with it (apf-start.S instead of
 * start.S, plus apf.c and apf-entry.S) starts guest_main() as task 0 of each vCPU with
 * interrupts on; it behaves like any other program when async PF is not offered.
 *
 * Like Linux's guest side (arch/x86/kernel/kvm.c: kvm_async_pf_task_wait_schedule(),
 * kvm_async_pf_task_wake(), the sysvec handler; read as the reference guest-memfd.md §5.1
 * describes it, not from a tree): a 'page not present' #PF (apf.flags = 1, CR2 = token) parks
 * the running task on the token; the 'page ready' interrupt (apf.token) wakes the task(s) waiting
 * on it (~0: all), or remembers a token whose #PF has not come yet, clears apf.token and writes
 * MSR_KVM_ASYNC_PF_ACK. Tasks switch only when one parks, yields or returns.
 */
#ifndef KVMSIM_WORKLOADS_RUNTIME_APF_H
#define KVMSIM_WORKLOADS_RUNTIME_APF_H

#include <stdint.h>

/* The 'page ready' vector (Linux's HYPERVISOR_CALLBACK_VECTOR). */
#define GUEST_APF_VECTOR 0xf3
/* Tasks per vCPU, task 0 (guest_main) included, and the stack of each other one. */
#define GUEST_MAX_TASKS 4
#define GUEST_TASK_STACK 8192

typedef void (*guest_task_fn)(void *arg);

/* Start fn(arg) as a task of this vCPU; 0, or -1 if it has GUEST_MAX_TASKS already. */
int guest_task_spawn(guest_task_fn fn, void *arg);
/* Let another runnable task of this vCPU run. */
void guest_task_yield(void);
/* Run the other tasks of this vCPU until every one has returned (halting while all of them
 * wait for pages). */
void guest_task_wait_all(void);
/* Whether async PF is on for this vCPU (the VMM offered it and the MSR write took). */
int guest_apf_enabled(void);
/* What this vCPU's runtime saw: 'not present' faults, tasks parked, 'page ready' interrupts. */
struct guest_apf_stats {
	uint64_t not_present;
	uint64_t parked;
	uint64_t ready;
	uint64_t early_ready;   /* a ready token that came before its #PF */
};
void guest_apf_stats(struct guest_apf_stats *out);

#endif
