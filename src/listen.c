/* listen.c: binding the listening sockets segue holds for its workers. */
/* SPDX-License-Identifier: MIT */
#include "listen.h"
#include "log.h"
#include "sd.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct inherited {
	char *name;
	int fd;
};

static struct inherited *inherited;
static size_t ninherited;

void listen_take_inherited(void)
{
	char **names = NULL;
	int n = sd_take_listen_fds(&names);
	if (n < 0) {
		warn("ignoring inherited sockets: LISTEN_FDS is malformed");
		n = 0;
	}
	inherited = xcalloc((size_t)n, sizeof(*inherited));
	for (int i = 0; i < n; i++) {
		int fd = 3 + i;
		if (fd_set_cloexec(fd, true) < 0)
			syswarn("inherited fd %d", fd);
		inherited[i].fd = fd;
		inherited[i].name = names && names[i] ? names[i] : xstrdup("unknown");
	}
	ninherited = (size_t)n;
	free(names);
}

int listen_claim_inherited(const char *name)
{
	for (size_t i = 0; i < ninherited; i++) {
		if (inherited[i].fd >= 0 && strcmp(inherited[i].name, name) == 0) {
			int fd = inherited[i].fd;
			inherited[i].fd = -1;
			return fd;
		}
	}
	return -1;
}

void listen_close_unclaimed(void (*forget)(const char *name))
{
	for (size_t i = 0; i < ninherited; i++) {
		if (inherited[i].fd >= 0) {
			warn("closing inherited socket \"%s\" (fd %d): no socket in "
			     "the config uses it",
			     inherited[i].name, inherited[i].fd);
			close(inherited[i].fd);
			if (forget)
				forget(inherited[i].name);
		}
		free(inherited[i].name);
	}
	free(inherited);
	inherited = NULL;
	ninherited = 0;
}

static int open_systemd(const struct socket_conf *s, char *err, size_t len)
{
	int fd = listen_claim_inherited(s->addr.name);
	if (fd < 0) {
		snprintf(err, len, "no socket named \"%s\" was inherited from systemd",
			 s->addr.name);
		return -1;
	}
	if (!sd_is_listening_stream(fd)) {
		snprintf(err, len, "inherited socket \"%s\" is not a listening stream socket",
			 s->addr.name);
		close(fd);
		return -1;
	}
	return fd;
}

static int set_int_opt(int fd, int level, int opt, int value)
{
	return setsockopt(fd, level, opt, &value, sizeof(value));
}

static int open_tcp(const struct socket_conf *s, char *err, size_t len)
{
	int family = s->addr.sa.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: %s", strerror(errno));
		return -1;
	}
	const char *what = "setsockopt";
	if (set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		goto fail;
	if (s->reuseport && set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto fail;
	/* ":PORT" means every address, v4 and v6 alike, whatever the host's
	 * net.ipv6.bindv6only says. */
	bool v6only = s->addr.kind == ADDR_TCP_ANY ? false : s->v6only;
	if (family == AF_INET6 && set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only) < 0)
		goto fail;
	/* Accepted connections inherit it from the listening socket. */
	if (s->nodelay && set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1) < 0)
		goto fail;
	what = "bind";
	if (bind(fd, (const struct sockaddr *)&s->addr.sa, s->addr.salen) < 0)
		goto fail;
	what = "listen";
	if (listen(fd, s->backlog) < 0)
		goto fail;
	return fd;
fail:;
	int saved = errno;
	snprintf(err, len, "%s: %s", what, strerror(saved));
	close(fd);
	errno = saved; /* EADDRINUSE for listen_open_retry */
	return -1;
}

/* Fills sun with path, which must fit in sun_path with its NUL: a longer
 * one would overflow it (or name another file once cut). */
static int unix_address(const char *path, struct sockaddr_un *sun, char *err, size_t len)
{
	size_t n = strlen(path);
	*sun = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (n == 0 || n >= sizeof(sun->sun_path)) {
		if (n)
			snprintf(err, len, "unix socket path %s: too long (%zu bytes, at most %zu)",
				 path, n, sizeof(sun->sun_path) - 1);
		else
			snprintf(err, len, "empty unix socket path");
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, n + 1);
	return 0;
}

/* Whether a process listens on the socket file: 0 when the connection is
 * refused (its listener is gone), else an errno: 0 is never returned for a
 * live one. The connect never blocks: a listener whose backlog is full
 * answers EAGAIN at once, and a connect still pending after PROBE_MS counts
 * as "in use", since segue's loop must not wait on anyone. */
#define PROBE_MS 100
static int probe_unix(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	int e = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ? EISCONN : errno;
	if (e == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		socklen_t elen = sizeof(e);
		if (poll(&p, 1, PROBE_MS) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e == 0)
			e = EISCONN;
	}
	close(fd);
	return e == ECONNREFUSED ? 0 : e;
}

/* A socket file whose listener is gone refuses connections: that one is
 * stale and may be replaced. Anything else at the path is left alone. */
int listen_remove_stale_unix(const char *path, char *err, size_t len)
{
	struct sockaddr_un sun;
	struct stat st;
	if (unix_address(path, &sun, err, len) < 0)
		return -1;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : (snprintf(err, len, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "%s exists and is not a socket", path);
		errno = EEXIST;
		return -1;
	}
	int e = probe_unix(&sun);
	if (e == ENOENT)
		return 0; /* gone meanwhile */
	if (e == EISCONN || e == EAGAIN) {
		snprintf(err, len, "%s is in use by a running process", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (e != 0) {
		snprintf(err, len, "%s: cannot tell whether it is in use: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, len, "removing stale %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int lookup_ids(const struct socket_conf *s, uid_t *uid, gid_t *gid)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (s->owner && *s->owner) {
		struct passwd *pw = getpwnam(s->owner);
		if (!pw) {
			errno = 0; /* "unknown user or group" */
			return -1;
		}
		*uid = pw->pw_uid;
	}
	if (s->group && *s->group) {
		struct group *gr = getgrnam(s->group);
		if (!gr) {
			errno = 0;
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int listen_unix(const char *path, mode_t mode, uid_t uid, gid_t gid, int backlog, int flags,
		char *err, size_t len)
{
	struct sockaddr_un sun;
	if (unix_address(path, &sun, err, len) < 0 || listen_remove_stale_unix(path, err, len) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: %s", strerror(errno));
		return -1;
	}
	/* Bind with no permissions at all, then open up: nobody can connect
	 * in the window before the configured mode applies. */
	mode_t old = umask(0777);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	int saved = errno;
	umask(old);
	const char *what = "bind";
	errno = saved;
	if (r < 0)
		goto fail;
	what = "chown";
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0)
		goto fail_unlink;
	what = "chmod";
	if (chmod(path, mode) < 0)
		goto fail_unlink;
	what = "listen";
	if (listen(fd, backlog) < 0)
		goto fail_unlink;
	return fd;
fail_unlink:
	saved = errno;
	unlink(path);
	errno = saved;
fail:
	saved = errno;
	snprintf(err, len, "%s %s: %s", what, path, strerror(saved));
	close(fd);
	errno = saved;
	return -1;
}

static int open_unix(const struct socket_conf *s, char *err, size_t len)
{
	uid_t uid;
	gid_t gid;
	if (lookup_ids(s, &uid, &gid) < 0) {
		snprintf(err, len, "%s: unknown user or group", s->addr.path);
		return -1;
	}
	return listen_unix(s->addr.path, s->mode, uid, gid, s->backlog, 0, err, len);
}

int listen_open(const struct socket_conf *s, char *err, size_t errlen)
{
	switch (s->addr.kind) {
	case ADDR_TCP:
	case ADDR_TCP_ANY:
		return open_tcp(s, err, errlen);
	case ADDR_UNIX:
		return open_unix(s, err, errlen);
	case ADDR_SYSTEMD:
		return open_systemd(s, err, errlen);
	}
	snprintf(err, errlen, "unknown address kind");
	errno = EINVAL;
	return -1;
}

int listen_open_retry(const struct socket_conf *s, double max_wait, char *err, size_t errlen)
{
	double deadline = now_mono() + max_wait;
	for (bool said = false;; said = true) {
		int fd = listen_open(s, err, errlen);
		if (fd >= 0 || errno != EADDRINUSE)
			return fd;
		double left = deadline - now_mono();
		if (left <= 0) {
			errno = EADDRINUSE;
			return -1;
		}
		if (!said)
			warn("socket %s: %s: retrying every 100 ms for up to %.1f s (workers of "
			     "a segue that was killed may still hold it)",
			     s->name, err, max_wait);
		double nap = left < 0.1 ? left : 0.1;
		struct timespec ts = {0, (long)(nap * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

void listen_describe(int fd, char *buf, size_t len)
{
	struct address a = {0};
	a.salen = sizeof(a.sa);
	if (getsockname(fd, (struct sockaddr *)&a.sa, &a.salen) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (a.sa.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&a.sa;
		snprintf(buf, len, "unix:%s", sun->sun_path);
		return;
	}
	a.kind = ADDR_TCP;
	format_address(&a, buf, len);
}

static bool same_inet(const struct sockaddr_storage *have, const struct sockaddr_storage *want)
{
	if (have->ss_family != want->ss_family)
		return false;
	if (want->ss_family == AF_INET) {
		const struct sockaddr_in *h = (const void *)have, *w = (const void *)want;
		return h->sin_addr.s_addr == w->sin_addr.s_addr &&
		       (w->sin_port == 0 || h->sin_port == w->sin_port);
	}
	const struct sockaddr_in6 *h = (const void *)have, *w = (const void *)want;
	return memcmp(&h->sin6_addr, &w->sin6_addr, sizeof(h->sin6_addr)) == 0 &&
	       (w->sin6_port == 0 || h->sin6_port == w->sin6_port);
}

bool listen_matches(int fd, const struct address *a)
{
	struct sockaddr_storage have;
	socklen_t len = sizeof(have);
	if (!sd_is_listening_stream(fd) || getsockname(fd, (struct sockaddr *)&have, &len) < 0)
		return false;
	if (a->kind == ADDR_UNIX)
		return have.ss_family == AF_UNIX &&
		       strcmp(((const struct sockaddr_un *)&have)->sun_path, a->path) == 0;
	if (a->kind == ADDR_TCP || a->kind == ADDR_TCP_ANY)
		return same_inet(&have, &a->sa);
	return false;
}

int listen_set_backlog(int fd, int backlog)
{
	return listen(fd, backlog);
}

void listen_close(const struct socket_conf *s, int fd)
{
	/* Sockets are held by address, so no newer socket of ours can own
	 * this path while this one is still held. */
	if (s->addr.kind == ADDR_UNIX && unlink(s->addr.path) < 0 && errno != ENOENT)
		syswarn("removing %s", s->addr.path);
	listen_close_keep_path(s, fd);
}

void listen_close_keep_path(const struct socket_conf *s, int fd)
{
	if (close(fd) < 0)
		syswarn("closing socket %s", s->name);
}
