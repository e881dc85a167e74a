// SPDX-License-Identifier: MIT
/* qmp-shape QEMU-REPLIES RIVET-REPLIES: for every reply whose "id" is in
 * both files (one JSON object per line; other lines are ignored), the two
 * must have the same shape: the same keys with values of the same JSON
 * type, recursively (arrays: their first elements; numbers: integer and
 * real alike).  Prints each compared id and every difference; exits 0 when
 * there is none and at least one id was compared.  The QMP e2e test's
 * differential check against Debian's QEMU (tests/qmp/qemu-replies.sh). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int diffs;

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

static void compare(const char *path, json_t *q, json_t *r)
{
	char sub[512];
	const char *key;
	json_t *v;

	if (strcmp(type_name(q), type_name(r))) {
		printf("  %s: QEMU has %s, rivet %s\n", path, type_name(q),
		       type_name(r));
		diffs++;
		return;
	}
	if (json_is_object(q)) {
		json_object_foreach(q, key, v) {
			snprintf(sub, sizeof(sub), "%s.%s", path, key);
			if (!json_object_get(r, key)) {
				printf("  %s: missing in rivet's reply\n", sub);
				diffs++;
				continue;
			}
			compare(sub, v, json_object_get(r, key));
		}
		json_object_foreach(r, key, v) {
			if (!json_object_get(q, key)) {
				printf("  %s.%s: not in QEMU's reply\n", path,
				       key);
				diffs++;
			}
		}
	} else if (json_is_array(q) && json_array_size(q) &&
		   json_array_size(r)) {
		snprintf(sub, sizeof(sub), "%s[0]", path);
		compare(sub, json_array_get(q, 0), json_array_get(r, 0));
	}
}

/* The replies of @path with a string "id", in an object keyed by it. */
static json_t *load(const char *path)
{
	FILE *f = fopen(path, "r");
	json_t *all = json_object();
	char *line = NULL;
	size_t cap = 0;

	if (!f) {
		perror(path);
		exit(2);
	}
	while (getline(&line, &cap, f) > 0) {
		char *brace = strchr(line, '{');
		json_t *j = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK,
					       NULL) : NULL;
		json_t *id = json_object_get(j, "id");

		if (json_is_string(id) && (json_object_get(j, "return") ||
					   json_object_get(j, "error")))
			json_object_set(all, json_string_value(id), j);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return all;
}

int main(int argc, char **argv)
{
	json_t *q, *r, *v;
	const char *id;
	int compared = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: qmp-shape QEMU-REPLIES RIVET-REPLIES\n");
		return 2;
	}
	q = load(argv[1]);
	r = load(argv[2]);
	json_object_foreach(q, id, v) {
		json_t *rv = json_object_get(r, id);

		if (!rv)
			continue;
		printf("%s\n", id);
		json_object_del(v, "id");
		json_object_del(rv, "id");
		compare(id, v, rv);
		compared++;
	}
	printf("%d replies compared, %d differences\n", compared, diffs);
	return compared && !diffs ? 0 : 1;
}
