/* SPDX-License-Identifier: MIT */
/* Run test code in a child process: what installs a seccomp filter or
 * starts threads that must not outlive the test stays out of the runner;
 * and connect to the servers it runs. */
#ifndef RIVET_TEST_CHILD_H
#define RIVET_TEST_CHILD_H

/* Fork, run @fn in the child (it ends with _exit: 0 when all went well)
 * and wait for it.  NULL when it exited 0, else a message saying how it
 * ended ("exit 11", "signal 31"; a static buffer). */
const char *ts_child_failure(void (*fn)(void));

/* A client connected to the UNIX socket @path, or -1. */
int ts_unix_connect(const char *path);

#endif
