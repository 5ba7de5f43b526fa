/* quick.c: quick mode: the configuration object from the command line alone. */
/* SPDX-License-Identifier: MIT */
/* open_memstream: a glibc extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

/* Appends arg to the command, quoted for /bin/sh where it needs it. */
static void shell_quote(FILE *out, const char *arg)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_@%+:,./-";

	if (*arg != '\0' && strspn(arg, safe) == strlen(arg)) {
		fputs(arg, out);
		return;
	}
	fputc('\'', out);
	for (; *arg != '\0'; arg++)
		if (*arg == '\'')
			fputs("'\\''", out);
		else
			fputc(*arg, out);
	fputc('\'', out);
}

/* argv as one command for /bin/sh -c 'exec COMMAND'. */
static char *join_command(char *const argv[], size_t argc)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&cmd, &len);

	if (out == NULL)
		abort(); /* out of memory */
	for (size_t i = 0; i < argc; i++) {
		if (i > 0)
			fputc(' ', out);
		shell_quote(out, argv[i]);
	}
	if (fclose(out) != 0 || cmd == NULL)
		abort(); /* out of memory */
	return cmd;
}

/* "[NAME=]ADDR": the name, or listenN for the nth unnamed one. */
static char *listen_name(const char *entry, const char **addr, int *unnamed)
{
	size_t n = strcspn(entry, "=");

	if (entry[n] == '=' && n > 0 && strspn(entry, CONFIG_NAME_CHARS) == n) {
		*addr = entry + n + 1;
		return xstrndup(entry, n);
	}
	*addr = entry;
	return xasprintf("listen%d", (*unnamed)++);
}

static void add_sockets(struct ctx *x, cfg_t *cfg, cfg_t *prog, char *const listen[],
			size_t nlisten)
{
	int unnamed = 0;

	for (size_t i = 0; i < nlisten; i++) {
		const char *addr;
		char *name = listen_name(listen[i], &addr, &unnamed);
		cfg_t *sec;

		if (cfg_gettsec(cfg, "socket", name) != NULL)
			config_problem(x, 0, "--listen: socket name \"%s\" given twice", name);
		else if ((sec = cfg_addtsec(cfg, "socket", name)) == NULL ||
			 cfg_setstr(sec, "listen", addr) != CFG_SUCCESS ||
			 cfg_addlist(prog, "sockets", 1, name) != CFG_SUCCESS)
			abort(); /* out of memory: the name is new, the keys exist */
		free(name);
	}
}

/* The config of program "app", its command argv, on the sockets listen. */
static struct config *quick_config(struct ctx *x, char *const listen[], size_t nlisten,
				   char *const argv[], size_t argc, const struct config_defaults *d)
{
	cfg_t *cfg = config_cfg_new(d), *prog;
	char *cmd = join_command(argv, argc);
	struct config *c;

	prog = cfg_addtsec(cfg, "program", "app");
	if (prog == NULL || cfg_setstr(prog, "command", cmd) != CFG_SUCCESS)
		abort(); /* out of memory */
	add_sockets(x, cfg, prog, listen, nlisten);
	c = config_extract(x, cfg, d);
	cfg_free(cfg);
	free(cmd);
	return c;
}

struct config *config_quick(char *const listen[], size_t nlisten, char *const argv[], size_t argc,
			    const struct config_defaults *defs, FILE *errors)
{
	struct config *c = NULL;
	struct ctx x;

	if (!config_begin(&x, CONFIG_COMMAND_LINE, errors, &defs))
		return NULL;
	if (nlisten == 0)
		config_problem(&x, 0, "quick mode needs at least one --listen");
	if (argc == 0 || argv[0] == NULL)
		config_problem(&x, 0, "no command given (put it after --)");
	else if (*argv[0] == '\0')
		config_problem(&x, 0, "the command name is empty");
	if (x.nproblems == 0)
		c = quick_config(&x, listen, nlisten, argv, argc, defs);
	return config_end(&x, c);
}
