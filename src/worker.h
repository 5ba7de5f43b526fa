/* worker.h: the process side of a worker: spawn, readiness, signals,
 * notify datagrams, captured output, deadlines. Each thing that happens
 * is an event fed to the lifecycle table (lifecycle.h); its outcome is
 * written to the model (the worker's state, its slot's failure), where
 * the owner (core.c) reads it. worker.c never calls into the reload. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_WORKER_H
#define SEGUE_WORKER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "model.h"

/* Called at the end of every libev callback of this module that changed
 * the model, so that the owner settles what follows from it. */
typedef void worker_changed_fn(void);
void worker_init(worker_changed_fn *changed);

/* Starts a worker in slot of p. A worker that cannot start is in the
 * model for no time: its slot records the failure and the event
 * worker_failed says why. Returns false then. */
bool worker_spawn(struct program_run *p, int slot);

/* Feeds an event from outside (WEV_DRAIN, WEV_KILL). */
void worker_event(struct worker *w, enum worker_event e);

/* A child exited: true when it was a worker's leader or its
 * ready-command (then it is handled). */
bool worker_reaped(pid_t pid, int status);

/* Some other descendant was reaped: lingering groups may be empty now. */
void worker_check_lingering(void);

/* Frees a worker without waiting for it (at exit). */
void worker_forget(struct worker *w);

/* Workers' descriptors and watchers across an upgrade in place (state.h):
 * restore runs after the model's. */
json_t *worker_save(void);
int worker_restore(json_t *part, char *err, size_t len);

/* Drains every starting or ready worker of g. */
void worker_drain_generation(const struct generation *g);

/* Spawning 1,000 workers in one pass of the loop would keep the control
 * socket waiting: the owner grants a budget for each pass. */
void worker_grant_spawns(unsigned n);
bool worker_can_spawn(void);

#endif
