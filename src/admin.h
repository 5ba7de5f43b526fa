/* admin.h: the read-only admin HTTP endpoint: /health, /ready, /metrics, /status. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_ADMIN_H
#define SEGUE_ADMIN_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* Clients at once; one more is answered 503 and closed. */
#define ADMIN_MAX_CLIENTS 64
/* A client that sends and takes nothing for this long is closed. */
#define ADMIN_IDLE_SECONDS 5.0
/* Listeners at most (admin-listen addresses). */
#define ADMIN_MAX_LISTENERS 16

/*
 * HTTP/1.1 on segue's loop, for probes, load balancers and Prometheus:
 *   GET /health   200 or 503, the `health` answer
 *   GET /ready    200 when the serving generation has every desired worker
 *                 ready (and segue is not stopping), else 503
 *   GET /metrics  the Prometheus text of `seguectl metrics`
 *   GET /status   the `status` answer
 * HEAD as GET without the body; another path 404, another method 405.
 * Nothing changes segue's state. Requests are parsed by http.h (8 KiB at
 * most: 431 or 413); keep-alive, pipelining and Connection: close work;
 * every request gets exactly one answer; writes never block.
 */

/* Binds every admin-listen address of c (none: nothing to do). The
 * listeners are segue's own: CLOEXEC, never a worker's. Returns 0, or -1
 * with a message naming the address. */
int admin_open(const struct config *c, char *err, size_t len);

/* Across an upgrade in place (state.h): the listeners go on, and so do
 * the clients, with what they sent and what they were not sent yet (a
 * probe that connected just before the exec is answered by the next
 * image). A state without this part (an older segue) opens the addresses
 * of the restored config. */
json_t *admin_save(void);
int admin_restore(json_t *part, char *err, size_t len);

/* Closes every client and listener. */
void admin_close(void);

#endif
