/* check.h: a program's health check (SPEC "Deploy safety"): a command run
 * every check-interval while somebody judges the program, each result
 * written to the model (program_run.check). It never restarts anything. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CHECK_H
#define SEGUE_CHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include "model.h"

typedef void check_changed_fn(void);
/* Whether p's check should run now. */
typedef bool check_wanted_fn(const struct program_run *p);

/* fn runs after every result, to settle. */
void check_init(check_changed_fn *fn);

/* Starts the checks that are wanted and not running (the first run at
 * once, with the results counted afresh) and stops the others. */
void check_settle(check_wanted_fn *wanted);

/* A check process ended: true if pid was one. */
bool check_reaped(pid_t pid, int status);

/* Kills every check and forgets it (at exit, and before an upgrade in
 * place execs: the next settle starts the wanted ones again). */
void check_forget(void);

#endif
