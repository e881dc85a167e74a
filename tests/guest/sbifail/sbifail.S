/* SPDX-License-Identifier: MIT */
/* A "kernel" that reports a failure at once: a RISC-V Linux Image header,
 * then SBI System Reset (EID "SRST", FID 0) with type shutdown and reason
 * 1, "system failure".  rivet must see a guest panic (QMP GUEST_PANICKED).
 * Built by the Makefile into build/riscv64/sbifail.Image. */
#include "../image_header.S"
	.section .text
	.globl _start
_start:
	image_header code, 0x10000	/* more than the file */
code:
	li	a7, 0x53525354		/* SRST */
	li	a6, 0			/* sbi_system_reset */
	li	a0, 0			/* shutdown */
	li	a1, 1			/* system failure */
	ecall
1:	wfi
	j	1b
