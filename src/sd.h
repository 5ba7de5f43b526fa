/* sd.h: the two systemd protocols segue speaks, without libsystemd.
 *
 * Socket activation (LISTEN_FDS) and sd_notify are stable interfaces that
 * systemd documents for reimplementation; libsystemd would bring five more
 * libraries and about 1 MiB of resident memory for these few lines. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SD_H
#define SEGUE_SD_H

#include <stdbool.h>

/* The descriptors passed by socket activation when LISTEN_PID is ours:
 * returns how many (from fd 3), with their names in *names (malloc'd,
 * "unknown" where none was given), and removes LISTEN_* from the
 * environment. Returns 0 when none were passed, -1 for a malformed set. */
int sd_take_listen_fds(char ***names);

/* Sends state ("READY=1", ...) to $NOTIFY_SOCKET. Returns 1 when sent, 0
 * when NOTIFY_SOCKET is unset, -1 with errno on failure. */
int sd_send_notify(const char *state);

/* Sends state with fd attached (SCM_RIGHTS), as FDSTORE=1 wants. */
int sd_send_notify_fd(const char *state, int fd);

/* fd is a stream socket in the listening state. */
bool sd_is_listening_stream(int fd);

#endif
