/* listen.h: binding the listening sockets segue holds for its workers. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LISTEN_H
#define SEGUE_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* Sockets handed to segue itself (systemd socket activation or its fd
 * store), by name. Taken once at start-up from LISTEN_FDS/LISTEN_FDNAMES,
 * which are then removed from the environment. */
void listen_take_inherited(void);
/* The inherited descriptor named `name`, removed from the table; -1 if none. */
int listen_claim_inherited(const char *name);
/* Closes inherited sockets nobody claimed, with a warning for each, and
 * calls forget(name) for each when it is not NULL. */
void listen_close_unclaimed(void (*forget)(const char *name));

/* Opens the socket `s` describes: bound and listening, blocking, CLOEXEC.
 * Returns the fd, or -1 with a message in err and errno set (EADDRINUSE when
 * another process holds the address). A unix socket file left by a dead
 * process is replaced; one a live process listens on is not. */
int listen_open(const struct socket_conf *s, char *err, size_t errlen);

/* listen_open, retried every 100 ms for up to max_wait seconds while the
 * address is in use (EADDRINUSE, or a unix socket a live process listens
 * on), with one warning: at start, workers orphaned by a segue that was
 * killed may hold it until they drain. It blocks: for start-up only, with
 * max_wait = the program's drain-timeout; 0 tries once. */
int listen_open_retry(const struct socket_conf *s, double max_wait, char *err, size_t errlen);

/* The socket fd is bound to the address a names (any port for port 0). */
bool listen_matches(int fd, const struct address *a);

/* Makes way for a unix socket at path: nothing there, or a socket file
 * whose listener is gone (connect refused), which is removed. A live
 * socket or any other file is an error, with a message in err and errno
 * (EADDRINUSE for a live one). The probe never blocks: a listener that has
 * not answered within 100 ms (a full backlog) counts as live. A path too
 * long for sun_path is an error (ENAMETOOLONG). */
int listen_remove_stale_unix(const char *path, char *err, size_t len);

/* The one way segue makes a listening unix socket (the control socket and
 * unix: listeners): a stale file at path is replaced, a live socket is
 * not; bound with no permissions, then given uid/gid (-1: unchanged) and
 * mode. flags: SOCK_NONBLOCK or 0. Returns the fd (CLOEXEC), or -1 with
 * a message naming the path. */
int listen_unix(const char *path, mode_t mode, uid_t uid, gid_t gid, int backlog, int flags,
		char *err, size_t len);

/* Applies a new backlog to a held socket (listen() again). */
int listen_set_backlog(int fd, int backlog);

/* Writes the address fd is bound to ("127.0.0.1:41234", "unix:/p"): the
 * real port when the config asked for port 0. */
void listen_describe(int fd, char *buf, size_t len);

/* Closes a held socket; removes its file for unix sockets segue created. */
void listen_close(const struct socket_conf *s, int fd);
/* Closes a held socket but leaves a unix socket's file in place: for a
 * socket that stays in systemd's fd store, whose next segue serves on the
 * same path. */
void listen_close_keep_path(const struct socket_conf *s, int fd);

#endif
