/* SPDX-License-Identifier: MIT */
/* ACPI Generic Event Device (ACPI 6.6 section 5.6.9, _HID "ACPI0013") with
 * one event, the power button: how a hardware-reduced ACPI platform (no
 * PM1 fixed power button) tells the OS "the button was pressed".  As in
 * QEMU's arm virt (hw/acpi/generic_event_device.c).
 *
 * The guest sees one page of MMIO with one register:
 *
 *   +0  event selector, 32 bits, read-only, read-to-clear: the events
 *       pending since the last read (GED_EVT_POWER_BUTTON); reading
 *       returns them and clears them.
 *
 * The device drives its wired interrupt line high while any event is
 * pending and lowers it when the selector is read (level, not an edge that
 * could be lost while the guest has the line masked).  Writes to the
 * selector are ignored; any other access (offset, width) reads zeros, is
 * ignored and logged (rate-limited: the guest controls it).
 *
 * Its DSDT part (dev_ops.acpi_dsdt) is the ASL Linux's evged and button
 * drivers expect:
 *
 *   Device (GED0) {
 *     Name (_HID, "ACPI0013") Name (_UID, 0)
 *     Name (_CRS, ResourceTemplate () {
 *       Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { GSI } })
 *     OperationRegion (EREG, SystemMemory, base, 4)
 *     Field (EREG, DWordAcc, NoLock, WriteAsZeros) { ESEL, 32 }
 *     Method (_EVT, 1, Serialized) {
 *       Local0 = ESEL
 *       If ((Local0 & GED_EVT_POWER_BUTTON) == GED_EVT_POWER_BUTTON) {
 *         Notify (\_SB.PWRB, 0x80) } } }
 *   Device (PWRB) { Name (_HID, "PNP0C0C") Name (_UID, 0) }
 *
 * so a press becomes: line high -> evged's threaded handler runs _EVT ->
 * the read clears the event and lowers the line -> Notify (PWRB, 0x80)
 * -> the ACPI button driver reports KEY_POWER (input device "Power
 * Button") -> systemd-logind powers off.
 *
 * No FDT node: Linux has no device-tree binding for a GED; an FDT-booted
 * guest never learns the device exists (the board keeps its virtio-input
 * power button for those).  No reset either: a guest reboot is a fresh VM
 * process (core/device.h), so a new device starts with nothing pending and
 * its line low.
 *
 * Threading: ged_press_power() from any thread (the main thread, for QMP
 * system_powerdown), MMIO from vCPU threads; one mutex per device, held
 * while the line is driven so the line always matches the pending bits. */
#ifndef RIVET_GED_H
#define RIVET_GED_H

#include <stdint.h>

#include "core/irq.h"

struct rivet_dev;

#define GED_SIZE 0x1000ULL		/* one page */
#define GED_REG_SEL 0			/* the event selector */
#define GED_REG_SEL_LEN 4		/* what the OperationRegion covers */
/* Event bits in the selector; the power button is QEMU's bit too. */
#define GED_EVT_POWER_BUTTON (1U << 1)

/* The device at [@base, @base + GED_SIZE) driving @irq (irq.irq != 0:
 * it cannot work without its line).  One per machine: its DSDT names
 * (GED0, PWRB) are fixed.  0, -EINVAL or -ENOMEM (or a pthread error). */
int ged_create(uint64_t base, struct irq_line irq, struct rivet_dev **out);

/* Latch a power button event and raise the line (if it is not high
 * already).  Pressing again before the guest read the selector is one
 * event.  0, -EINVAL if @dev is not a GED, or the interrupt controller's
 * -errno.  A real button's press: it succeeds whether or not the guest
 * listens (an OS without an ACPI GED driver never reads the selector and
 * the line simply stays high). */
int ged_press_power(struct rivet_dev *dev);

#endif
