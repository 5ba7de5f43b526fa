/* sd.h: the systemd protocols segue speaks (socket activation, sd_notify,
 * the journal's native protocol).
 *
 * Two implementations, chosen by ./configure: sd.c speaks them itself (the
 * default), sd-libsystemd.c calls libsystemd (--with-libsystemd). They are
 * stable interfaces that systemd documents for reimplementation; libsystemd
 * would bring five more libraries (liblzma, libzstd, liblz4, libgcrypt...)
 * into a root daemon, and more resident memory, for these few lines. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SD_H
#define SEGUE_SD_H

#include <stdbool.h>
#include <sys/uio.h>

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

/* Sends one entry to the journal (/run/systemd/journal/socket): n fields,
 * each "KEY=value" where value may hold any byte (newlines too). Returns 0
 * when the journal took it, -1 with errno when it did not (no journal
 * there, an entry too big...): the caller writes it elsewhere. */
int sd_journal_send_fields(const struct iovec *fields, int n);

#endif
