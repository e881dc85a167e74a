// SPDX-License-Identifier: MIT
/*
 * bootprobe: a tiny UEFI application for rivet's firmware boot-order test
 * (e2e cases virt-uefi-bootorder*).  Installed as the removable-media
 * loader \EFI\BOOT\BOOTRISCV64.EFI on small test disks, it prints
 *
 *   RIVET-EFI-BOOT current=Boot#### order=####,####...
 *   RIVET-EFI-BOOT from=<device path>
 *
 * (the boot option the firmware started, its BootOrder, and the device it
 * was loaded from, which names the disk's PCI slot: two lines, as EDK2's
 * console wraps at 80 columns) and powers the machine
 * off through the firmware's ResetSystem (SBI SRST: rivet exits 0).
 * Built with Debian's gnu-efi for riscv64 by tests/guest/efi/mkdisks.sh.
 */
#include <efi.h>
#include <efilib.h>

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_GUID global = EFI_GLOBAL_VARIABLE;
	EFI_LOADED_IMAGE *li = NULL;
	CHAR16 *from = NULL;
	UINT16 current = 0xffff, order[16];
	UINTN size = sizeof(current), osize = sizeof(order);

	InitializeLib(image, systab);
	if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image,
					 &LoadedImageProtocol, (void **)&li)) &&
	    li)
		from = DevicePathToStr(DevicePathFromHandle(li->DeviceHandle));
	if (EFI_ERROR(uefi_call_wrapper(RT->GetVariable, 5, L"BootCurrent",
					&global, NULL, &size, &current)))
		current = 0xffff;
	if (EFI_ERROR(uefi_call_wrapper(RT->GetVariable, 5, L"BootOrder",
					&global, NULL, &osize, order)))
		osize = 0;
	Print(L"RIVET-EFI-BOOT current=Boot%04x order=", current);
	for (UINTN i = 0; i < osize / sizeof(order[0]); i++)
		Print(i ? L",%04x" : L"%04x", order[i]);
	Print(L"\nRIVET-EFI-BOOT from=%s\n", from ? from : L"?");
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0,
			  NULL);
	return EFI_SUCCESS;
}
