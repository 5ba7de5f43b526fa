/* sd.c: the two systemd protocols segue speaks, without libsystemd. */
/* SPDX-License-Identifier: MIT */
#include "sd.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_FDS_START 3

static int parse_positive(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : -1;
	if (!s || errno || *end || end == s || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static char **split_names(const char *s, long n)
{
	char **names = xcalloc((size_t)n + 1, sizeof(char *));
	for (long i = 0; i < n; i++) {
		size_t len = s ? strcspn(s, ":") : 0;
		names[i] = len ? strndup(s, len) : xstrdup("unknown");
		if (!names[i])
			names[i] = xstrdup("unknown");
		if (s)
			s = s[len] ? s + len + 1 : NULL;
	}
	return names;
}

int sd_take_listen_fds(char ***names)
{
	*names = NULL;
	long pid, n;
	int r = 0;
	if (parse_positive(getenv("LISTEN_PID"), &pid) < 0 || pid != (long)getpid())
		goto out; /* meant for another process, or not at all */
	if (parse_positive(getenv("LISTEN_FDS"), &n) < 0 || n > 4096) {
		r = -1;
		goto out;
	}
	for (long i = 0; i < n; i++)
		if (fd_set_cloexec(LISTEN_FDS_START + (int)i, true) < 0) {
			r = -1;
			goto out;
		}
	*names = split_names(getenv("LISTEN_FDNAMES"), n);
	r = (int)n;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

static int send_state(const char *state, int passfd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* the abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct iovec iov = {.iov_base = (void *)state, .iov_len = strlen(state)};
	struct msghdr mh = {
	    .msg_name = &sun,
	    .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				       (path[0] == '/' ? 1 : 0)),
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	if (passfd >= 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 1;
}

int sd_send_notify(const char *state)
{
	return send_state(state, -1);
}

int sd_send_notify_fd(const char *state, int fd)
{
	return send_state(state, fd);
}

bool sd_is_listening_stream(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return false;
	len = sizeof(listening);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}
