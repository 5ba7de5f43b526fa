/* control.h: the control socket: clients, their requests and answers. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CONTROL_H
#define SEGUE_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTROL_MAX_CLIENTS 64
/* Places that clients streaming events or waiting for a reload never take. */
#define CONTROL_RESERVED     8
#define CONTROL_IDLE_SECONDS 10.0
/* A client whose unread answers pass this is dropped, not waited on. */
#define CONTROL_MAX_OUTPUT (1 << 20)

/* Creates the socket at path (its directory made 0700 if missing), with
 * mode and, if group is not empty, that group. A live socket is never
 * taken over; a stale one is replaced. Returns 0, or -1 with a message. */
int control_open(const char *path, mode_t mode, const char *group, char *err, size_t errlen);

/* Across an upgrade in place (state.h): the socket, and the clients that
 * stream events or wait for the upgrade's answer. */
json_t *control_save(void);
int control_restore(json_t *part, char *err, size_t len);

/* The control socket's path (SEGUE_CONTROL for workers). */
const char *control_path(void);

/* Closes every client and the socket, and removes its file. */
void control_close(void);

#endif
