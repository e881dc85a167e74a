/* SPDX-License-Identifier: MIT */
/* The microvm memory map (docs/microvm.md mirrors this table). */
#ifndef RIVET_MICROVM_H
#define RIVET_MICROVM_H

#define MICROVM_PLIC_BASE 0x0c000000ULL	/* --irqchip plic: up to 0x0c220000 */
#define MICROVM_APLIC_BASE 0x0d000000ULL
#define MICROVM_APLIC_SIZE 0x4000ULL
#define MICROVM_UART_BASE 0x10000000ULL
#define MICROVM_UART_SIZE 0x100ULL
#define MICROVM_UART_IRQ 1
#define MICROVM_VIRTIO_BASE 0x10001000ULL
#define MICROVM_VIRTIO_SIZE 0x1000ULL
#define MICROVM_VIRTIO_SLOTS 16
#define MICROVM_VIRTIO_IRQ0 2	/* slot N uses APLIC source 2 + N */
#define MICROVM_IMSIC_BASE 0x28000000ULL
#define MICROVM_IMSIC_STRIDE 0x1000ULL	/* one S-level file per hart */
#define MICROVM_BOOT_TIMER_BASE 0x10200000ULL	/* --boot-timer */
#define MICROVM_RAM_BASE 0x80000000ULL
#define MICROVM_APLIC_SOURCES 32
#define MICROVM_IMSIC_IDS 255

#endif
