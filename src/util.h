/* util.h: small helpers shared by the supervisor's files. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_UTIL_H
#define SEGUE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that cannot fail: on OOM the supervisor aborts, since it
 * cannot go on supervising with a half-built state. */
void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
/* Room for n elements of size bytes; n * size must not overflow. */
void *xreallocarray(void *p, size_t n, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull, nonnull));
/* At most n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull, nonnull));
char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), malloc, returns_nonnull));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0), malloc, returns_nonnull));

/* A NULL-terminated, growable vector of owned strings. */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};
void strv_push(struct strv *s, char *owned);
void strv_free(struct strv *s);

/* Seconds since the epoch (wall clock) and since boot (monotonic). */
double now_wall(void);
double now_mono(void);

/* Sets or clears O_CLOEXEC / O_NONBLOCK; 0 or -1 with errno. */
int fd_set_cloexec(int fd, bool on);
int fd_set_nonblock(int fd, bool on);

/* Number of open descriptors of this process (from /proc/self/fd). */
int count_open_fds(void);

/* Writes pid to path atomically: a new temporary file beside it (created
 * exclusively, never through a symlink, mode 0644), then renamed over it.
 * Returns 0, or -1 with errno. */
int write_pidfile(const char *path, pid_t pid);

/* Removes the pidfile at path only if it is a regular file (a symlink is
 * neither followed nor removed) that still holds pid: a second segue that
 * fails at start must not remove the running one's. Returns 1 when it
 * removed it, 0 when it left it alone (gone, another pid, not a regular
 * file), -1 with errno on an error. */
int remove_pidfile(const char *path, pid_t pid);

#endif
