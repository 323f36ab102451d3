/* SPDX-License-Identifier: MIT */
/*
 * Replays fuzz inputs without a fuzzer engine: runs the target linked with
 * it (LLVMFuzzerTestOneInput) over every file in the directories or files
 * given, so each target's corpus is also a plain test under ASan/UBSan.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* Reads a whole file into an exact-size buffer, so that the sanitizers
 * catch any read past the end of the input. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	int ret = -1;
	uint8_t *buf = NULL;
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0)
		goto out;
	long size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET) < 0)
		goto out;
	if (!(buf = malloc(size ? (size_t)size : 1)))
		goto out;
	if (size && fread(buf, 1, (size_t)size, f) != (size_t)size)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	free(buf);
	fclose(f);
	return ret;
}

static int keep(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	size_t ran = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		struct stat st;
		if (stat(argv[a], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[a]) < 0)
				return 1;
			ran++;
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[a], &names, keep, alphasort);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			return 1;
		}
		int failed = 0;
		for (int i = 0; i < n; i++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[a], names[i]->d_name);
			if (!failed && run_file(path) < 0)
				failed = 1;
			else if (!failed)
				ran++;
			free(names[i]);
		}
		free(names);
		if (failed)
			return 1;
	}
	printf("replay: %zu inputs ran\n", ran);
	if (ran == 0) {
		fprintf(stderr, "replay: no inputs: an empty corpus tests nothing\n");
		return 1;
	}
	return 0;
}
