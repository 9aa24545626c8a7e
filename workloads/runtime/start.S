/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest entry: every vCPU starts here at once, with RDI = its index, RSI = the boot parameters and
 * RSP = the top of its own 16-byte aligned stack. Nothing to set up (see guest.ld for why .bss
 * needs no zeroing), so go straight to the program and halt this vCPU for good if it returns.
 */
	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp
	call guest_main
1:	hlt
	jmp 1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
