/* util.c: small helpers shared by the supervisor's files. */
/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Says which program ran out (segue, seguectl, a test) without allocating. */
static void oom(void)
{
	static const char msg[] = ": out of memory\n";
	const char *name = program_invocation_short_name;
	if (write(STDERR_FILENO, name, strlen(name)) < 0 ||
	    write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report with */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void strv_push(struct strv *s, char *owned)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static double clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_wall(void)
{
	return clock_seconds(CLOCK_REALTIME);
}

double now_mono(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

static int fd_flag(int fd, int getcmd, int setcmd, int flag, bool on)
{
	int flags = fcntl(fd, getcmd);
	if (flags < 0)
		return -1;
	int want = on ? flags | flag : flags & ~flag;
	if (want == flags)
		return 0;
	return fcntl(fd, setcmd, want);
}

int fd_set_cloexec(int fd, bool on)
{
	return fd_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}

int fd_set_nonblock(int fd, bool on)
{
	return fd_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* Bits for a temporary name nobody can guess in advance. */
static unsigned long random_bits(void)
{
	unsigned long r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20);
}

/* Creates a new file beside path, exclusively and never through a symlink:
 * whoever can write the directory could plant a link to a root-only file.
 * Returns the fd with the name in *tmp, or -1 with errno. */
static int create_temp(const char *path, char **tmp)
{
	for (int tries = 0; tries < 16; tries++) {
		*tmp = xasprintf("%s.tmp.%ld.%08lx", path, (long)getpid(),
				 random_bits() & 0xffffffffUL);
		int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd;
		int saved = errno;
		free(*tmp);
		*tmp = NULL;
		errno = saved;
		if (saved != EEXIST)
			return -1;
	}
	return -1;
}

int write_pidfile(const char *path, pid_t pid)
{
	char *tmp;
	int fd = create_temp(path, &tmp);
	if (fd < 0)
		return -1;
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	errno = EIO; /* for a short write, which sets none */
	int r = write(fd, buf, (size_t)len) == len ? 0 : -1;
	if (close(fd) < 0)
		r = -1;
	/* rename replaces a symlink at path; it never writes through it. */
	if (r == 0)
		r = rename(tmp, path);
	if (r < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	free(tmp);
	return r;
}

/* The pid a pidfile's text holds ("123" or "123\n"), or -1. */
static long parse_pid(const char *text)
{
	char *end;
	errno = 0;
	long pid = strtol(text, &end, 10);
	if (errno || end == text || pid <= 0 || (*end && strcmp(end, "\n") != 0))
		return -1;
	return pid;
}

int remove_pidfile(const char *path, pid_t pid)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -1;
	struct stat st;
	char buf[32];
	ssize_t n = 0;
	if (fstat(fd, &st) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (S_ISREG(st.st_mode))
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n <= 0 || parse_pid(buf) != (long)pid)
		return 0;
	/* Only the very file that was read: the name may have been replaced. */
	struct stat now;
	if (lstat(path, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		return 0;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -1;
	return 1;
}
