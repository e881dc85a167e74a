// SPDX-License-Identifier: MIT
/* A main() for the fuzz targets when there is no libFuzzer (gcc builds in
 * CI): run LLVMFuzzerTestOneInput() once on every file named on the command
 * line and on every regular file in every directory named there (in name
 * order, so a replay is reproducible).  Each input is named on stdout
 * before it runs, so when a crash or failed check aborts with the
 * sanitizer's report the last line names the culprit.  On success the
 * last line is "replayed N inputs" and the exit status 0.
 *
 * Usage: fuzz_NAME FILE|DIR... */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned long *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;
	size_t n;

	if (!f || fstat(fileno(f), &st)) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* Exactly the input's size, so a read past its end is reported. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	printf("replay: %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	(*count)++;
	return 0;
}

static int is_reg(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static int run_dir(const char *dir, unsigned long *count)
{
	struct dirent **names;
	int n, err = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && is_reg(path) && !err)
			err = run_file(path, count);
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		int err;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		err = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) :
					    run_file(argv[i], &count);
		if (err)
			return 1;
	}
	printf("replayed %lu inputs\n", count);
	return 0;
}
