/* watch.h: the watch window (SPEC "Deploy safety"): after a deploy's
 * cut-over, the new release is on probation for `watch`. A worker of it
 * that ends unasked, or a check that fails check-failures times in a row,
 * sends it back to the previous release (auto_rollback). */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_WATCH_H
#define SEGUE_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "reload.h"

/* fn runs when the window's time is up, to settle. */
void watch_init(void (*changed)(void));

/* Reload r is followed by a watch window: a deploy (not a rollback) that
 * succeeded, of a generation that serves and has a program with `watch`. */
bool watch_follows(const struct reload_result *r);

/* Begins the window after a reload that watch_follows(), ends one that a
 * newer reload superseded, and judges the running one: watch_passed when
 * its time is up; true, with the reason, when the release failed. The
 * window then stays open until watch_fail(): the caller decides when a
 * rollback can start (not while the watched reload's steered handover
 * still runs). */
bool watch_settle(char *reason, size_t len);

/* Closes a failed window: auto_rollback (cannot NULL: the caller starts
 * the rollback at once), or watch_failed with why it cannot. */
void watch_fail(const char *why, const char *cannot);

/* p's check judges the watched release now. */
bool watch_judges(const struct program_run *p);

/* The reload whose generation is watched (0: none); *left: seconds to go. */
unsigned watch_running(double *left);

/* Across an upgrade in place: the window and its deadline. */
json_t *watch_save(void);
int watch_restore(json_t *part, char *err, size_t len);

#endif
