/* SPDX-License-Identifier: MIT */
/* The names of the boards rivet has: the one list that option parsing,
 * messages and the seccomp tables use.  Each name has a struct board in
 * src/machine/ (board_find()); tests/unit/test_boards.c fails when the two
 * disagree. */
#ifndef RIVET_BOARDS_H
#define RIVET_BOARDS_H

#include <stdbool.h>

/* NULL-terminated; the first is the default. */
extern const char *const rivet_board_names[];

#define RIVET_BOARD_DEFAULT (rivet_board_names[0])

/* @name's entry in rivet_board_names (so it lives forever), or NULL. */
const char *rivet_board_name(const char *name);
/* "microvm, virt": for messages. */
const char *rivet_board_list(void);

#endif
