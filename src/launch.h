/* launch.h: what a worker is started with: its directory, user, command
 * line, descriptors and environment (SPEC "Worker environment"). */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LAUNCH_H
#define SEGUE_LAUNCH_H

#include "model.h"
#include "spawn.h"
#include "util.h"

struct launch {
	struct spawn_spec spec;
	struct strv env;
	char *command;
	gid_t *groups;
	int *fds;
};

/* Where segue's control socket is (SEGUE_CONTROL) and, in quick mode, the
 * directory workers start in when the program names none. Copied. */
void launch_init(const char *control_path, const char *default_directory);
void launch_cleanup(void);

/* Resolves the program's directory (realpath at each spawn, unless it is
 * pinned; recorded in the model for rollback) and its user and groups.
 * Returns 0, or -1 with a message. */
int launch_resolve(struct launch *l, struct program_run *p, char *err, size_t len);

/* Completes l for slot of p: descriptors, command line, environment with
 * NOTIFY_SOCKET=notify_path. */
void launch_build(struct launch *l, const struct program_run *p, int slot, const char *notify_path);

void launch_free(struct launch *l);

/* The environment of a helper run for a worker (ready-command): the
 * worker's filtered environment and its SEGUE_* variables, with
 * SEGUE_WORKER_PID. */
void launch_helper_env(struct strv *env, const struct program_run *p, int slot, pid_t pid);

/* The environment of a program's health check: the program's filtered
 * environment and SEGUE_* variables, with SEGUE_PIDS (its workers). */
void launch_check_env(struct strv *env, const struct program_run *p);
/* Expands {port:NAME}, {generation} and, for a worker (slot >= 0),
 * {fd:NAME} (the descriptor it gets it as) and {worker}; other braces stay
 * as they are, since shell commands use them too. */
char *launch_expand(const char *text, const struct program_run *p, int slot);

#endif
