// SPDX-License-Identifier: MIT
#include "core/boards.h"

#include <stddef.h>
#include <string.h>

const char *const rivet_board_names[] = { "microvm", "virt", NULL };

const char *rivet_board_name(const char *name)
{
	for (size_t i = 0; name && rivet_board_names[i]; i++)
		if (!strcmp(rivet_board_names[i], name))
			return rivet_board_names[i];
	return NULL;
}

const char *rivet_board_list(void)
{
	static char list[64];

	if (!list[0]) {
		for (size_t i = 0; rivet_board_names[i]; i++) {
			if (i)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, rivet_board_names[i],
				sizeof(list) - strlen(list) - 1);
		}
	}
	return list;
}
