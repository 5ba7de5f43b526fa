/* notify.c: sd_notify datagrams from workers: the parser and the sockets. */
/* SPDX-License-Identifier: MIT */
#include "notify.h"
#include "utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static bool starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(line, prefix, n) == 0;
}

/* The status goes into JSON answers and log lines: valid UTF-8, cut
 * between two characters, and without control characters. */
static void copy_status(struct notify_msg *m, const char *s, size_t len)
{
	size_t n = utf8_clean(m->status, sizeof(m->status), s, len);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)m->status[i];
		if (c < ' ' || c == 0x7f)
			m->status[i] = '?';
	}
	m->has_status = true;
}

static int parse_line(const char *line, size_t len, struct notify_msg *m)
{
	if (!memchr(line, '=', len))
		return -1;
	if (len == 7 && starts_with(line, len, "READY=1"))
		m->ready = true;
	else if (len == 10 && starts_with(line, len, "STOPPING=1"))
		m->stopping = true;
	else if (len == 11 && starts_with(line, len, "RELOADING=1"))
		m->reloading = true;
	else if (len == 10 && starts_with(line, len, "WATCHDOG=1"))
		m->watchdog = true;
	else if (starts_with(line, len, "STATUS="))
		copy_status(m, line + 7, len - 7);
	return 0;
}

int notify_parse(const char *buf, size_t len, struct notify_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len == 0 || memchr(buf, '\0', len))
		return -1;
	const char *end = buf + len;
	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t linelen = nl ? (size_t)(nl - buf) : (size_t)(end - buf);
		if (linelen > 0 && parse_line(buf, linelen, m) < 0) {
			memset(m, 0, sizeof(*m)); /* all or nothing */
			return -1;
		}
		buf += linelen + (nl ? 1 : 0);
	}
	return 0;
}

static char *notify_dir;
static unsigned serial; /* the next socket's name */

/* Where a fresh run's names start: at random, so they are not the names
 * an earlier run of this instance handed out. A segue killed with
 * KillMode=process leaves its workers running, and as they drain they send
 * STOPPING=1 to the NOTIFY_SOCKET they were given: had the new run numbered
 * its workers' sockets from 0 again, the datagram would drain a new worker
 * (or a READY=1 call one ready that is not). Below 2^31, so that counting
 * up never wraps to a name in use. */
static unsigned first_serial(void)
{
	unsigned r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* no entropy yet (early boot): the clock and pid differ per run */
		struct timespec ts = {0};
		if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
			ts.tv_nsec = 0; /* the pid alone, then */
		r = (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec ^ ((unsigned)getpid() << 12);
	}
	return r & 0x7fffffffu;
}

/* The room a socket name takes after the directory: "/" and a serial. */
#define SOCKET_NAME_ROOM 12

/* Opens path as a directory segue owns, creating it when missing. An
 * existing one is used only if it is a directory (never through a symlink)
 * owned by segue's euid: anyone else could swap or read its sockets. The
 * mode is set through the descriptor, so no path can be swapped under it. */
static int open_own_dir(const char *path, char *err, size_t len)
{
	int fd = -1, saved = 0;
	struct stat st;
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		saved = errno;
		snprintf(err, len, "creating %s: %s", path, strerror(saved));
	} else if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		saved = errno;
		if (saved == ELOOP || saved == ENOTDIR)
			snprintf(err, len,
				 "%s exists and is not a directory (segue does not "
				 "follow a symbolic link there)",
				 path);
		else
			snprintf(err, len, "%s: %s", path, strerror(saved));
	} else if (fstat(fd, &st) < 0) {
		saved = errno;
		snprintf(err, len, "%s: %s", path, strerror(saved));
	} else if (st.st_uid != geteuid()) {
		saved = EPERM;
		snprintf(err, len, "%s is owned by uid %ld, not by segue's uid %ld: refusing it",
			 path, (long)st.st_uid, (long)geteuid());
	} else if (fchmod(fd, 0711) < 0) {
		saved = errno;
		snprintf(err, len, "chmod 0711 %s: %s", path, strerror(saved));
	}
	if (saved == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

/* Removes what a crashed run left in the directory: every entry but
 * subdirectories (only segue can write there, and the names it binds would
 * collide with them). */
static int remove_leftovers(int dirfd, const char *path, char *err, size_t len)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int saved = errno;
		snprintf(err, len, "reading %s: %s", path, strerror(saved));
		if (fd >= 0)
			close(fd);
		errno = saved;
		return -1;
	}
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (unlinkat(dirfd, e->d_name, 0) < 0 && errno != ENOENT) {
			snprintf(err, len, "removing stale %s/%s: %s", path, e->d_name,
				 strerror(errno));
			r = -1;
		}
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	return r;
}

int notify_dir_open_beside(const char *control_path, char *err, size_t len)
{
	char *path = NULL;
	if (!control_path || !*control_path || asprintf(&path, "%s.notify", control_path) < 0) {
		snprintf(err, len, "no control socket path to put the notify directory beside");
		errno = EINVAL;
		return -1;
	}
	struct sockaddr_un sun;
	if (strlen(path) + SOCKET_NAME_ROOM > sizeof(sun.sun_path)) {
		snprintf(err, len, "%s: too long: its sockets' paths must fit in %zu bytes", path,
			 sizeof(sun.sun_path) - 1);
		free(path);
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open_own_dir(path, err, len);
	int r = fd < 0 ? -1 : remove_leftovers(fd, path, err, len);
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		free(path);
		errno = saved;
		return -1;
	}
	free(notify_dir);
	notify_dir = path;
	serial = first_serial();
	return 0;
}

int notify_dir_adopt(const char *control_path)
{
	char *path = NULL;
	if (!control_path || asprintf(&path, "%s.notify", control_path) < 0)
		return -1;
	DIR *d = opendir(path);
	if (!d) {
		free(path);
		return -1;
	}
	/* The sockets of the workers that live on keep their names: new ones
	 * are numbered from a random start as at a fresh start, and after
	 * every live name at or above it. */
	serial = first_serial();
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		unsigned long n = strtoul(e->d_name, &end, 10);
		if (e->d_name[0] != '.' && !*end && n >= serial)
			serial = (unsigned)n + 1;
	}
	closedir(d);
	free(notify_dir);
	notify_dir = path;
	return 0;
}

void notify_dir_close(void)
{
	if (notify_dir && rmdir(notify_dir) < 0 && errno != ENOENT)
		fprintf(stderr, "segue: removing %s: %s\n", notify_dir, strerror(errno));
	free(notify_dir);
	notify_dir = NULL;
}

int notify_open(uid_t owner, char *name, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%u", notify_dir, serial++);
	if (!notify_dir || n < 0 || (size_t)n >= sizeof(sun.sun_path) || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	mode_t old = umask(0177); /* 0600 from the start */
	int r = setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (r == 0)
		r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == 0 && owner != geteuid())
		r = chown(sun.sun_path, owner, (gid_t)-1);
	if (r < 0) {
		int saved = errno;
		unlink(sun.sun_path);
		close(fd);
		errno = saved;
		return -1;
	}
	memcpy(name, sun.sun_path, (size_t)n + 1);
	return fd;
}

void notify_close(int fd, const char *name)
{
	if (name[0] == '/')
		unlink(name);
	close(fd);
}

static void close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
}

static bool find_creds(struct msghdr *mh, struct ucred *cred)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(*cred))) {
			memcpy(cred, CMSG_DATA(c), sizeof(*cred));
			return true;
		}
	}
	return false;
}

int notify_receive(int fd, char *buf, size_t cap, size_t *len, struct ucred *cred)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 253)];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	close_passed_fds(&mh);
	if ((size_t)n > cap || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	if (!find_creds(&mh, cred))
		return -1;
	*len = (size_t)n;
	return 1;
}
