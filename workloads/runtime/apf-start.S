/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry of a program built with the async PF runtime (apf.h), in place of start.S: SSE as
 * start.S enables it, a GDT with a 64-bit code segment loaded into CS (iretq, which returns from
 * the runtime's handlers, pops CS and checks it against the GDT), then guest_apf_main(), which
 * sets up the IDT and async PF and runs guest_main() as task 0. Halts for good, interrupts off,
 * when it returns.
 */
#include "enable-sse.inc"

	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	ENTRY_ENABLE_SSE
	lgdt apf_gdt_desc(%rip)
	pushq $0x08
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	call guest_apf_main
2:	cli
	hlt
	jmp 2b
	.size _start, . - _start

	.section .rodata.apf_gdt, "a"
	.balign 16
apf_gdt:
	.quad 0			/* null */
	.quad 0x00209a0000000000	/* 0x08: 64-bit code, DPL 0, present */
	.quad 0x0000920000000000	/* 0x10: data, present */
apf_gdt_desc:
	.word . - apf_gdt - 1
	.quad apf_gdt

	.section .note.GNU-stack, "", @progbits
