/* SPDX-License-Identifier: MIT */
/* The RISC-V Linux Image header that rivet's loader takes (Linux's
 * Documentation/arch/riscv/boot-image-header.rst), for the bare-metal test
 * guests: at the start of the image, jump to \entry; rivet reserves
 * \size bytes from the load address (BSS included). */
	.macro	image_header entry, size
	j	\entry			/* code0/code1 */
	.balign 8
	.dword	0			/* text_offset */
	.dword	\size			/* image_size */
	.dword	0			/* flags */
	.word	2			/* version 0.2 */
	.word	0			/* res1 */
	.dword	0			/* res2 */
	.ascii	"RISCV\0\0\0"		/* magic (deprecated) */
	.ascii	"RSC\x05"		/* magic2 */
	.word	0			/* res3 */
	.endm
