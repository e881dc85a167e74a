/* SPDX-License-Identifier: MIT */
/* A "kernel" that reports a failure at once: a RISC-V Linux Image header,
 * then SBI System Reset (EID "SRST", FID 0) with type shutdown and reason
 * 1, "system failure".  rivet must see a guest panic (QMP GUEST_PANICKED).
 * Built by the Makefile into build/riscv64/sbifail.Image. */
	.section .text
	.globl _start
_start:
	j	code			/* code0/code1 */
	.balign 8
	.dword	0			/* text_offset */
	.dword	0x10000			/* image_size: more than the file */
	.dword	0			/* flags */
	.word	2			/* version 0.2 */
	.word	0			/* res1 */
	.dword	0			/* res2 */
	.ascii	"RISCV\0\0\0"		/* magic (deprecated) */
	.ascii	"RSC\x05"		/* magic2 */
	.word	0			/* res3 */
code:
	li	a7, 0x53525354		/* SRST */
	li	a6, 0			/* sbi_system_reset */
	li	a0, 0			/* shutdown */
	li	a1, 1			/* system failure */
	ecall
1:	wfi
	j	1b
