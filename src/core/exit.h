/* SPDX-License-Identifier: MIT */
/* The exit statuses of every rivet command, in one place (documented in
 * `rivet run --help`, docs/user-guide.md and docs/seccomp.md). */
#ifndef RIVET_EXIT_H
#define RIVET_EXIT_H

enum rivet_exit {
	RIVET_EXIT_OK = 0,		/* done; `run`: the guest powered off */
	RIVET_EXIT_ERROR = 1,		/* failed; `run`: VM error, guest crash */
	RIVET_EXIT_USAGE = 2,		/* bad usage or input file */
	RIVET_EXIT_REBOOT = 3,		/* `run`: guest reboot, --no-reboot */
	RIVET_EXIT_SIGNAL = 128,	/* + N: stopped by signal N */
	/* A forbidden syscall (Firecracker's value). */
	RIVET_EXIT_SECCOMP = 148,
};

#endif
