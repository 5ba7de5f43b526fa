/* sd.c: the systemd protocols segue speaks, without libsystemd (the default). */
/* SPDX-License-Identifier: MIT */
#include "sd.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_FDS_START 3
#define JOURNAL_SOCKET	 "/run/systemd/journal/socket"

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

/* One datagram to the unix socket at path ('@' for the abstract
 * namespace), with passfd attached when >= 0. Returns 1, or -1 with errno. */
static int send_dgram(const char *path, const struct iovec *iov, size_t niov, int passfd)
{
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
	struct msghdr mh = {
	    .msg_name = &sun,
	    .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				       (path[0] == '/' ? 1 : 0)),
	    .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = niov,
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

static int send_state(const char *state, int passfd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct iovec iov = {.iov_base = (void *)state, .iov_len = strlen(state)};
	return send_dgram(path, &iov, 1, passfd);
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

/* A journal field name: A-Z, 0-9 and '_', 64 bytes at most (journald
 * drops an entry's field otherwise, and a newline would end it early). */
static bool valid_key(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* The native protocol (systemd's "Native Journal Protocol"): "KEY=value\n",
 * or, for a value that holds a newline or a NUL, "KEY\n", the value's
 * length as 64-bit little endian, the value and "\n". */
static int put_field(FILE *out, const struct iovec *f)
{
	const char *s = f->iov_base;
	const char *eq = memchr(s, '=', f->iov_len);
	if (!eq || !valid_key(s, (size_t)(eq - s))) {
		errno = EINVAL;
		return -1;
	}
	size_t klen = (size_t)(eq - s), vlen = f->iov_len - klen - 1;
	if (!memchr(eq + 1, '\n', vlen) && !memchr(eq + 1, '\0', vlen)) {
		fwrite(s, 1, f->iov_len, out);
		putc('\n', out);
		return 0;
	}
	unsigned char size[8];
	for (size_t i = 0; i < sizeof(size); i++)
		size[i] = (unsigned char)((uint64_t)vlen >> (8 * i));
	fwrite(s, 1, klen, out);
	putc('\n', out);
	fwrite(size, 1, sizeof(size), out);
	fwrite(eq + 1, 1, vlen, out);
	putc('\n', out);
	return 0;
}

/* One datagram per entry. An entry too big for one (EMSGSIZE) is refused
 * rather than sent in a memfd: the caller writes it to stderr instead. */
int sd_journal_send_fields(const struct iovec *fields, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return -1;
	int r = 0;
	for (int i = 0; i < n && r == 0; i++)
		r = put_field(out, &fields[i]);
	int saved = errno;
	if (fclose(out) != 0 && r == 0) {
		r = -1;
		saved = errno;
	}
	if (r == 0) {
		struct iovec iov = {.iov_base = buf, .iov_len = len};
		r = send_dgram(JOURNAL_SOCKET, &iov, 1, -1) < 0 ? -1 : 0;
		saved = errno;
	}
	free(buf);
	errno = saved;
	return r;
}
