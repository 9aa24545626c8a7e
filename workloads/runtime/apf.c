/* SPDX-License-Identifier: GPL-2.0-only */
/* The async PF guest runtime (apf.h): IDT, handlers, MSRs and the per-vCPU task scheduler. */
#include "workloads/runtime/apf.h"

#include "workloads/runtime/libc.h"
#include "workloads/runtime/runtime.h"

enum task_state { TASK_FREE, TASK_RUNNABLE, TASK_WAITING, TASK_DONE };

struct task {
	uint64_t rsp;           /* saved by apf_switch() while it does not run */
	uint32_t wait_token;    /* the token it is parked on (TASK_WAITING) */
	enum task_state state;
	guest_task_fn fn;
	void *arg;
};

/* struct kvm_vcpu_pv_apf_data (arch/x86/include/uapi/asm/kvm_para.h): 64 bytes, aligned. */
struct apf_data {
	volatile uint32_t flags;
	volatile uint32_t token;
	uint8_t pad[56];
} __attribute__((aligned(64)));

#define EARLY_TOKENS 8

struct apf_cpu {
	struct apf_data data;
	struct task tasks[GUEST_MAX_TASKS];
	int current;
	int enabled;
	uint32_t early[EARLY_TOKENS];   /* ready tokens whose #PF has not come yet */
	struct guest_apf_stats stats;
};

struct idt_gate {
	uint64_t lo;
	uint64_t hi;
};

static struct apf_cpu cpus[KVMSIM_MAX_VCPUS];
static struct idt_gate idt[256] __attribute__((aligned(4096)));
static uint8_t task_stacks[KVMSIM_MAX_VCPUS][GUEST_MAX_TASKS - 1][GUEST_TASK_STACK]
	__attribute__((aligned(16)));

void apf_pf_entry(void);
void apf_irq_entry(void);
void apf_task_trampoline(void);
void apf_switch(uint64_t *save_rsp, uint64_t new_rsp);
void apf_do_page_fault(uint64_t error_code, const uint64_t *frame);
void apf_do_irq(void);
void apf_task_run(struct task *t);
void guest_apf_main(uint32_t vcpu_id, struct kvmsim_boot_params *params);

/* This vCPU: its initial APIC ID (CPUID.1:EBX[31:24]), which kvmsim makes its index. */
static struct apf_cpu *this_cpu(void)
{
	uint32_t a = 1, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return &cpus[b >> 24];
}

/* wrmsr as the first instruction of a translation block (a jump to it): the only wrmsr kvmsim
 * can intercept on Unicorn 2.0.1 (sim/cpu/hw.h). */
static void wrmsr(uint32_t msr, uint64_t value)
{
	asm volatile("jmp 1f\n1:\twrmsr" : : "c"(msr), "a"((uint32_t)value),
		     "d"((uint32_t)(value >> 32)) : "memory");
}

/* A 64-bit interrupt gate to handler, selector 0x08 (apf-start.S's code segment), DPL 0. */
static void set_gate(int vector, void (*handler)(void))
{
	uint64_t h = (uint64_t)(uintptr_t)handler;

	idt[vector].lo = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			 ((h >> 16) & 0xffff) << 48;
	idt[vector].hi = h >> 32;
}

/* lidt of the runtime's IDT. */
static void load_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} desc = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	asm volatile("lidt %0" : : "m"(desc));
}

/* Another runnable task than the current one, round robin after it; -1 if there is none. */
static int pick(struct apf_cpu *c)
{
	for (int i = 1; i < GUEST_MAX_TASKS; i++) {
		int t = (c->current + i) % GUEST_MAX_TASKS;

		if (c->tasks[t].state == TASK_RUNNABLE)
			return t;
	}
	return -1;
}

/* Whether a task of this vCPU waits for a page. */
static int any_waiting(struct apf_cpu *c)
{
	for (int t = 0; t < GUEST_MAX_TASKS; t++)
		if (c->tasks[t].state == TASK_WAITING)
			return 1;
	return 0;
}

/*
 * With interrupts off: run other tasks until the current one is runnable again (it returns
 * then), or, when the current one is done, until no task is left. Nothing to run but tasks
 * waiting for pages: halt with interrupts on until the 'page ready' interrupt.
 */
static void schedule(struct apf_cpu *c)
{
	for (;;) {
		struct task *cur = &c->tasks[c->current];

		if (cur->state == TASK_RUNNABLE)
			return;
		int next = pick(c);

		if (next >= 0) {
			int prev = c->current;

			c->current = next;
			apf_switch(&c->tasks[prev].rsp, c->tasks[next].rsp);
			continue;
		}
		if (cur->state == TASK_DONE && !any_waiting(c))
			return;
		asm volatile("sti; hlt; cli" : : : "memory");
	}
}

/* A token that came ready before its 'not present' #PF: consume it. */
static int take_early(struct apf_cpu *c, uint32_t token)
{
	for (int i = 0; i < EARLY_TOKENS; i++) {
		if (c->early[i] == token) {
			c->early[i] = 0;
			return 1;
		}
	}
	return 0;
}

/*
 * The frame of a 64-bit interrupt-gate delivery, as the SDM lays it out: CS our code segment,
 * RFLAGS with its fixed bit 1 and IF (async PF is only sent with interrupts on), the frame
 * right below an RSP aligned down to 16, above it the interrupted RSP.
 */
static int frame_ok(const uint64_t *frame)
{
	uint64_t at = (uint64_t)(uintptr_t)frame;

	return frame[1] == 0x08 && (frame[2] & 0x202) == 0x202 && (at + 40) % 16 == 0 &&
	       frame[3] >= at + 40 && frame[3] - (at + 40) < 16;
}

/* The #PF handler: only async PF 'not present' faults reach the guest in kvmsim. */
void apf_do_page_fault(uint64_t error_code, const uint64_t *frame)
{
	struct apf_cpu *c = this_cpu();
	uint32_t reason = c->data.flags;
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	c->data.flags = 0;
	if (error_code != 0 || !frame_ok(frame)) {
		guest_printf("apf: bad #PF frame: error=0x%lx rip=0x%lx cs=0x%lx rflags=0x%lx "
			     "rsp=0x%lx at %p\n", error_code, frame[0], frame[1], frame[2],
			     frame[3], (const void *)frame);
		guest_exit(4);
	}
	if (reason != KVM_PV_REASON_PAGE_NOT_PRESENT) {
		guest_printf("apf: unexpected #PF cr2=0x%lx error=0x%lx flags=%u\n", cr2,
			     error_code, reason);
		guest_exit(3);
	}
	c->stats.not_present++;
	if (take_early(c, (uint32_t)cr2))
		return;
	c->stats.parked++;
	c->tasks[c->current].wait_token = (uint32_t)cr2;
	c->tasks[c->current].state = TASK_WAITING;
	schedule(c);
}

/* The 'page ready' interrupt: wake the waiters, free the token slot, ACK. */
void apf_do_irq(void)
{
	struct apf_cpu *c = this_cpu();
	uint32_t token = c->data.token;
	int woke = 0;

	c->stats.ready++;
	for (int t = 0; t < GUEST_MAX_TASKS; t++) {
		struct task *task = &c->tasks[t];

		if (task->state == TASK_WAITING && (token == ~0u || task->wait_token == token)) {
			task->state = TASK_RUNNABLE;
			task->wait_token = 0;
			woke = 1;
		}
	}
	if (!woke && token != ~0u) {
		c->stats.early_ready++;
		for (int i = 0; i < EARLY_TOKENS; i++) {
			if (!c->early[i]) {
				c->early[i] = token;
				break;
			}
		}
	}
	c->data.token = 0;
	wrmsr(MSR_KVM_ASYNC_PF_ACK, 1);
}

/* A spawned task's life: fn, then done; never returns. */
void apf_task_run(struct task *t)
{
	t->fn(t->arg);
	asm volatile("cli" : : : "memory");
	t->state = TASK_DONE;
	schedule(this_cpu());
	guest_printf("apf: a finished task was resumed\n");
	guest_exit(3);
}

/* A task on a fresh stack that starts in apf_task_trampoline (apf-entry.S). */
int guest_task_spawn(guest_task_fn fn, void *arg)
{
	struct apf_cpu *c = this_cpu();
	int id = (int)(c - cpus);

	for (int t = 1; t < GUEST_MAX_TASKS; t++) {
		struct task *task = &c->tasks[t];

		if (task->state != TASK_FREE && task->state != TASK_DONE)
			continue;
		uint64_t *top = (uint64_t *)(uintptr_t)(task_stacks[id][t - 1] + GUEST_TASK_STACK);

		top[-1] = (uint64_t)(uintptr_t)apf_task_trampoline;
		top[-2] = 0x2;                          /* RFLAGS: interrupts off until sti */
		top[-3] = (uint64_t)(uintptr_t)task;    /* RBX: the task, for the trampoline */
		for (int r = 4; r <= 8; r++)
			top[-r] = 0;
		task->rsp = (uint64_t)(uintptr_t)&top[-8];
		task->fn = fn;
		task->arg = arg;
		task->state = TASK_RUNNABLE;
		return 0;
	}
	return -1;
}

/* Switch to the next runnable task, if any, with interrupts off meanwhile. */
void guest_task_yield(void)
{
	struct apf_cpu *c = this_cpu();
	int next;

	asm volatile("cli" : : : "memory");
	next = pick(c);
	if (next >= 0) {
		int prev = c->current;

		c->current = next;
		apf_switch(&c->tasks[prev].rsp, c->tasks[next].rsp);
	}
	asm volatile("sti" : : : "memory");
}

/* Run the others until all returned; halt while they all wait for pages. */
void guest_task_wait_all(void)
{
	struct apf_cpu *c = this_cpu();

	asm volatile("cli" : : : "memory");
	for (;;) {
		int left = 0;

		for (int t = 0; t < GUEST_MAX_TASKS; t++)
			left |= t != c->current && (c->tasks[t].state == TASK_RUNNABLE ||
						    c->tasks[t].state == TASK_WAITING);
		if (!left)
			break;
		int next = pick(c);

		if (next >= 0) {
			int prev = c->current;

			c->current = next;
			apf_switch(&c->tasks[prev].rsp, c->tasks[next].rsp);
		} else {
			asm volatile("sti; hlt; cli" : : : "memory");
		}
	}
	asm volatile("sti" : : : "memory");
}

/* Whether guest_apf_main() enabled async PF on this vCPU. */
int guest_apf_enabled(void)
{
	return this_cpu()->enabled;
}

/* This vCPU's counts. */
void guest_apf_stats(struct guest_apf_stats *out)
{
	*out = this_cpu()->stats;
}

/* Called by apf-start.S on every vCPU: IDT, async PF if offered, guest_main() as task 0. */
void guest_apf_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	struct apf_cpu *c = &cpus[vcpu_id];

	set_gate(14, apf_pf_entry);
	set_gate(GUEST_APF_VECTOR, apf_irq_entry);
	load_idt();
	c->current = 0;
	c->tasks[0].state = TASK_RUNNABLE;
	if (params->flags & KVMSIM_BOOT_ASYNC_PF) {
		wrmsr(MSR_KVM_ASYNC_PF_INT, GUEST_APF_VECTOR);
		wrmsr(MSR_KVM_ASYNC_PF_EN, (uint64_t)(uintptr_t)&c->data | KVM_ASYNC_PF_ENABLED |
		      KVM_ASYNC_PF_SEND_ALWAYS | KVM_ASYNC_PF_DELIVERY_AS_INT);
		c->enabled = 1;
	}
	asm volatile("sti" : : : "memory");
	guest_main(vcpu_id, params);
	asm volatile("cli" : : : "memory");
	c->tasks[0].state = TASK_DONE;
	schedule(c);
}
