/* env.h: the one environment builder for every child segue starts
 * (workers, ready-commands, hooks), with the reserved-variable filter. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_ENV_H
#define SEGUE_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Variables segue sets itself, or that belong to segue's own systemd
 * service: never passed on from segue's environment, never taken from a
 * config's env. */
bool env_reserved(const char *entry);

/* Starts env with segue's environment less the reserved variables and
 * those that `overrides` ("KEY=VALUE" entries) set, then appends the
 * overrides that are not reserved. */
void env_base(struct strv *env, char *const *overrides, size_t noverrides);

/* Appends "KEY=VALUE" built from fmt. */
void env_add(struct strv *env, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
