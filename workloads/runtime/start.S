/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest entry: every vCPU starts here at once, with RDI = its index, RSI = the boot parameters and
 * RSP = the top of its own 16-byte aligned stack. Enable SSE for the program (CR0: clear EM, set
 * MP; CR4: OSFXSR and OSXMMEXCPT), then go to the program and halt this vCPU for good if it
 * returns. .bss needs no zeroing: the loader puts the image into memory that is zero elsewhere.
 */
#include "enable-sse.inc"

	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	ENTRY_ENABLE_SSE
	call guest_main
1:	hlt
	jmp 1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
