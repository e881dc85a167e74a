/* SPDX-License-Identifier: MIT */
/* Entry of the interrupts-in-flight snapshot guest (irqsnap.c): a RISC-V
 * Linux Image header, then a stack, a zeroed BSS and main(hartid).
 * Everything is reached pc-relative, so the Image runs wherever rivet
 * loads it.  Built by the Makefile into build/riscv64/irqsnap.Image. */
#include "../image_header.S"
	.section .text.start, "ax"
	.globl _start
_start:
	image_header code, 0x1000000	/* with the BSS (16 MiB) */
code:
	.option push
	.option norelax
	la	t0, __bss_start
	la	t1, _end
1:	bgeu	t0, t1, 2f
	sb	zero, 0(t0)
	addi	t0, t0, 1
	j	1b
2:	la	sp, stack_top
	.option pop
	call	main
3:	wfi
	j	3b

	.section .bss
	.balign 16
	.space	65536
stack_top:
