/* replay.c: runs a fuzz corpus through a harness, without libFuzzer, as TAP. */
/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tap.h"

/* The harness this program is linked with. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into an exact-size heap buffer. */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	struct stat st;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size >= 0) {
		*size = (size_t)st.st_size;
		buf = malloc(*size ? *size : 1);
		if (buf != NULL && fread(buf, 1, *size, f) != *size) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void run_file(const char *path)
{
	size_t size = 0;
	uint8_t *data = slurp(path, &size);

	if (!ok(data != NULL, "%s", path)) {
		diag("cannot read %s: %s", path, strerror(errno));
		return;
	}
	/* A crash or a sanitizer report ends the program: the test fails. */
	LLVMFuzzerTestOneInput(data, size);
	free(data);
}

static int visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static void run_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, visible, alphasort);

	if (n < 0) {
		ok(false, "read corpus %s", dir);
		diag("%s: %s", dir, strerror(errno));
		return;
	}
	if (n == 0)
		ok(false, "corpus %s holds no file", dir);
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run_file(path);
		free(names[i]);
	}
	free(names);
}

static void run(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		run_dir(path);
	else
		run_file(path);
}

/* The corpus name from the program name: "fuzz-proto" or "replay-proto"
 * replays t/fuzz/corpus/proto. */
static const char *corpus_name(const char *argv0)
{
	static const char *const prefixes[] = {"lt-", "fuzz-", "replay-"};
	const char *name = strrchr(argv0, '/');

	name = name ? name + 1 : argv0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			name += strlen(prefixes[i]);
	return name;
}

int main(int argc, char **argv)
{
	plan_lazy();
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run(argv[i]);
	} else {
		const char *top = getenv("top_srcdir");
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/t/fuzz/corpus/%s", top && *top ? top : ".",
			 corpus_name(argv[0]));
		run_dir(dir);
	}
	return tap_done();
}
