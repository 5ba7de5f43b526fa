/* sd-libsystemd.c: sd.h's systemd protocols from libsystemd (./configure --with-libsystemd). */
/* SPDX-License-Identifier: MIT */
#include "sd.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* As many as sd.c accepts: more is a malformed set. */
#define LISTEN_FDS_MAX 4096

/* libsystemd returns a negative errno; sd.h's callers read errno. */
static int fail(int r)
{
	errno = -r;
	return -1;
}

int sd_take_listen_fds(char ***names)
{
	*names = NULL;
	/* unset_environment = 1: workers must not see LISTEN_* */
	int n = sd_listen_fds_with_names(1, names);
	if (n < 0 || n > LISTEN_FDS_MAX) {
		for (char **p = *names; p && *p; p++)
			free(*p);
		free(*names);
		*names = NULL;
		return -1;
	}
	return n;
}

int sd_send_notify(const char *state)
{
	int r = sd_notify(0, state);
	return r < 0 ? fail(r) : r > 0;
}

int sd_send_notify_fd(const char *state, int fd)
{
	int r = sd_pid_notify_with_fds(0, 0, state, &fd, 1);
	return r < 0 ? fail(r) : r > 0;
}

bool sd_is_listening_stream(int fd)
{
	return sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0;
}

/* sd_journal_sendv() reports success when the journal's socket does not
 * exist ("fail silently"), which would lose the entry: without the
 * socket, the caller writes it to stderr instead. */
int sd_journal_send_fields(const struct iovec *fields, int n)
{
	struct stat st;
	if (stat(JOURNAL_SOCKET, &st) < 0)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	int r = sd_journal_sendv(fields, n);
	return r < 0 ? fail(r) : 0;
}
