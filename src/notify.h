/* notify.h: sd_notify datagrams from workers: the parser and the sockets. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_NOTIFY_H
#define SEGUE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NOTIFY_MAX_DATAGRAM 4096
#define NOTIFY_STATUS_MAX   256

struct notify_msg {
	bool ready;
	bool stopping;
	bool reloading;
	bool watchdog;
	bool has_status;
	char status[NOTIFY_STATUS_MAX]; /* printable, truncated */
};

/* Parses one datagram of "KEY=VALUE" lines. Unknown keys and blank lines
 * are ignored. Returns 0, or -1 with msg cleared when it is not a
 * notification (a NUL byte, a line without '=', zero bytes). */
int notify_parse(const char *buf, size_t len, struct notify_msg *msg);

/* Opens the directory that holds the workers' notify sockets, one stable
 * place per instance, beside its control socket: CONTROL_PATH.notify, so
 * that a crash leaves no new directory behind. It is created by segue, or
 * used only if it is a real directory (not a symlink) owned by segue's
 * euid; its mode becomes 0711 (a worker's user reaches its own socket but
 * cannot list the others). Whatever an earlier run left in it is removed:
 * call it once the control socket is held, which proves that no other segue
 * of this instance runs (not after an upgrade in place, whose sockets live
 * on). The sockets opened next are named from a random start, never as
 * the earlier run's (whose orphaned workers may still send to theirs).
 * Returns 0, or -1 with errno and a message naming the path in err. */
int notify_dir_open_beside(const char *control_path, char *err, size_t errlen);
/* After an upgrade in place: the directory notify_dir_open_beside made
 * before, as it is (its sockets belong to live workers); new sockets are
 * named from a random start, past every live name. 0, or -1. */
int notify_dir_adopt(const char *control_path);
/* Removes the directory (its sockets must be closed first). */
void notify_dir_close(void);

/* Opens a datagram socket in that directory, owned by `owner` with mode
 * 0600 (so only the worker's user, and root, can send to it), with
 * credentials passing on, non-blocking and CLOEXEC. A path, not the
 * abstract namespace: some sd_notify clients (Ruby's sd_notify gem) cannot
 * reach an abstract socket. Writes the path to name. Returns the fd, or -1
 * with errno. */
int notify_open(uid_t owner, char *name, size_t len);

/* Closes the socket and removes its file. */
void notify_close(int fd, const char *name);

/* Receives one datagram. Returns 1 with buf/len/cred filled, 0 when no
 * datagram is waiting, -1 for a datagram to drop (too long, without
 * credentials); descriptors passed along are closed. */
int notify_receive(int fd, char *buf, size_t cap, size_t *len, struct ucred *cred);

#endif
