/* hold.h: the listening sockets segue holds: bind or reuse, systemd's fd
 * store, changes at a reload's commit, close when unused. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_HOLD_H
#define SEGUE_HOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Holds the socket s describes for one more generation: the held socket at
 * the same address (its name and backlog unchanged: see hold_apply), else
 * one systemd stored for an earlier segue, else a new bind, retried for
 * `retry` seconds while the address is in use (at start: the workers of a
 * segue that was killed still drain). Returns NULL with a message in err. */
struct held_socket *hold_socket(const struct socket_conf *s, bool fdstore, double retry, char *err,
				size_t len);

/* A generation lets go of h; the last one closes it. */
void hold_release(struct held_socket *h);

/* True when h differs from s in what hold_apply changes. */
bool hold_differs(const struct held_socket *h, const struct socket_conf *s);

/* Applies s's backlog and name to h (a reload's commit); with the fd
 * store the socket is stored again under its new name. */
void hold_apply(struct held_socket *h, const struct socket_conf *s);

/* A reload's commit made model->serving the new generation: with handover
 * steer its sockets take the new connections (and the fd store's place),
 * and done(old) runs once old's steered sockets are quiet (steer.h);
 * false, calling nothing, when old has none. */
bool hold_cutover(const struct generation *old, void (*done)(unsigned old_number));

/* At teardown: a stop is often half of a restart, and systemd drops the
 * fd store itself when the service really stops. */
void hold_keep_stored(void);

/* Removes name from systemd's fd store. */
void hold_unstore(const char *name);

#endif
