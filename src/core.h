/* core.h: the supervisor's commands (one path for each, whoever asks:
 * a signal or the control socket), its start and stop, and settle: the
 * one step that brings the model in line after any change. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CORE_H
#define SEGUE_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Blocks the signals segue handles until core_start (or core_adopt)
 * watches them: one sent during the start waits instead of ending segue,
 * or of being dropped when segue is PID 1 of a namespace. */
void core_hold_signals(void);

/* Watches signals and children, holds config's sockets and starts the
 * first generation. Returns 0, or -1 with a message in err. */
int core_start(struct config *config, char *err, size_t len);

/* Brings the model in line: drives the running reload, fills and empties
 * slots, restarts crashed workers when due, frees drained generations,
 * ends the loop when a stop is done. Called after every change; cheap
 * when nothing is to do. */
void core_settle(void);

/* A reload (SIGHUP, `reload`): the number of the reload that serves the
 * request, or 0 when segue is stopping. */
unsigned core_reload(const char *source);
/* `rollback`: 0 with a message when it cannot start. */
unsigned core_rollback(const char *source, char *err, size_t len);
/* `scale`, TTIN and TTOU: 0, or -1 with a message. */
int core_scale(const char *program, int workers, const char *source, char *err, size_t len);
void core_scale_all(int delta, const char *source);
/* `signal`: sends sig to the serving generation's workers of program;
 * returns how many, or -1 with a message. */
int core_signal(const char *program, int sig, char *err, size_t len);
/* `upgrade` and SIGUSR2: 0 when under way, or -1 with the reason. */
int core_upgrade(char *err, size_t len);

/* After an upgrade in place restored the model: watches signals and
 * children again, reaps what exited during the exec, and settles. */
void core_adopt(void);

/* Graceful stop; `now` (a second request) kills every worker at once. */
void core_stop(bool now);

/* Frees everything after the loop ended (workers are forgotten, not
 * waited for). */
void core_teardown(void);

#endif
