/* config-internal.h: what config.c shares with quick.c; not an interface for other files. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CONFIG_INTERNAL_H
#define SEGUE_CONFIG_INTERNAL_H

#include <confuse.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* The bytes a socket or program name may hold. */
#define CONFIG_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
/* Where problems with command-line values are, in messages. */
#define CONFIG_COMMAND_LINE "command line"

struct layout;
struct problem;

/* One load: where its problems go, and the problems found so far. */
struct ctx {
	const char *where; /* the file name as given, or "command line" */
	FILE *errors;
	struct layout *lay; /* where keys are; NULL in quick mode */
	size_t nproblems;
	struct problem *problems;
	size_t dropped; /* problems beyond the number shown */
};

/* Starts a load that reports to `errors` (NULL: stderr) as `where`. *defs
 * NULL becomes "no command-line values". Returns false, after printing
 * them, when the command-line values have problems. */
bool config_begin(struct ctx *x, const char *where, FILE *errors,
		  const struct config_defaults **defs);

/* Records a problem: "WHERE:LINE: message", or "WHERE: message" for line 0. */
void config_problem(struct ctx *x, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints the problems, in line order. With any, drops c and returns NULL;
 * else returns c. */
struct config *config_end(struct ctx *x, struct config *c);

/* A libconfuse config holding segue's options, with the command-line values
 * as the defaults of program keys. Never NULL. */
cfg_t *config_cfg_new(const struct config_defaults *d);

/* Reads and checks every value of cfg; problems go to x. Never NULL; the
 * config is only good if no problem was recorded. */
struct config *config_extract(struct ctx *x, cfg_t *cfg, const struct config_defaults *d);

#endif
