/* sinks.h: where reload and crash events go besides the log: a hook
 * program (chat notifications) and DogStatsD. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SINKS_H
#define SEGUE_SINKS_H

#include <stdbool.h>
#include <sys/types.h>

/* At most this many hooks run at once; an event that finds them all busy
 * is not sent to the hook (and a warning says so): a slow hook must never
 * hold up supervision. A hook still running after hook-timeout is killed
 * with its process group (event hook_timeout), so hung hooks free their
 * places. */
#define SINKS_MAX_HOOKS 4

/* Subscribes to the event stream. Settings are read from sv.config at
 * each event, so a reload that changes hook or statsd takes effect. */
void sinks_start(void);
void sinks_stop(void);

/* A child exited: true when it was a hook (then it is accounted for). */
bool sinks_child_exited(pid_t pid, int status);

#endif
