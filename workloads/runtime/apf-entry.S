/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The async PF runtime's assembly (apf.h): the #PF and 'page ready' entry points the IDT names,
 * and the task switch. An entry saves the registers a C call may clobber (the runtime is built
 * general-registers-only), keeps RSP 16-byte aligned for the call and returns with iretq. The
 * frame the CPU pushed is 40 bytes (+8 for #PF's error code) on an RSP it aligned to 16.
 */
	.section .text.apf, "ax"

	.macro SAVE_REGS
	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi
	pushq %r8; pushq %r9; pushq %r10; pushq %r11
	.endm
	.macro RESTORE_REGS
	popq %r11; popq %r10; popq %r9; popq %r8
	popq %rdi; popq %rsi; popq %rdx; popq %rcx; popq %rax
	.endm

	.globl apf_pf_entry
	.type apf_pf_entry, @function
apf_pf_entry:
	SAVE_REGS
	movq 72(%rsp), %rdi	/* the error code */
	leaq 80(%rsp), %rsi	/* the frame the CPU pushed: RIP, CS, RFLAGS, RSP, SS */
	subq $8, %rsp
	call apf_do_page_fault
	addq $8, %rsp
	RESTORE_REGS
	addq $8, %rsp		/* drop the error code */
	iretq
	.size apf_pf_entry, . - apf_pf_entry

	.globl apf_irq_entry
	.type apf_irq_entry, @function
apf_irq_entry:
	SAVE_REGS
	call apf_do_irq
	RESTORE_REGS
	iretq
	.size apf_irq_entry, . - apf_irq_entry

/* apf_switch(uint64_t *save_rsp, uint64_t new_rsp): callee-saved registers and RFLAGS stay on
 * the old task's stack, its RSP in *save_rsp; the new task resumes where it switched away (or
 * at apf_task_trampoline, with its task in RBX). */
	.globl apf_switch
	.type apf_switch, @function
apf_switch:
	pushfq
	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx
	popfq
	ret
	.size apf_switch, . - apf_switch

	.globl apf_task_trampoline
	.type apf_task_trampoline, @function
apf_task_trampoline:
	movq %rbx, %rdi
	sti
	call apf_task_run
	ud2
	.size apf_task_trampoline, . - apf_task_trampoline

	.section .note.GNU-stack, "", @progbits
