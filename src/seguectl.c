/* seguectl.c: the control client: one request to segue's control socket, its answer shown. */
/* SPDX-License-Identifier: MIT */
#include "parse.h"
#include "paths.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Exit status: what a deploy script or a health check acts on. */
enum {
	EXIT_OK = 0,	  /* success, healthy */
	EXIT_FAILED = 1,  /* segue said no: ok:false, unhealthy, reload rolled back */
	EXIT_TROUBLE = 2, /* cannot connect or talk to segue; usage error */
	EXIT_TIMEOUT = 3, /* --timeout reached */
};

#define REQUEST_MAX	PROTO_MAX_LINE	    /* the protocol's limit, newline included */
#define ANSWER_MAX	(64u * 1024 * 1024) /* a sanity limit on one answer line */
#define SIMPLE_TIMEOUT	10		    /* seconds: default wait for a simple answer */
#define UPGRADE_TIMEOUT 60		    /* seconds: re-exec and restore take longer */
#define BUSY_RETRY_MS	10000		    /* a full accept queue, without a deadline */
#define NO_DEADLINE	(-1LL)
#define TABLE_COLS	8

/* ---- messages ---- */

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("seguectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("seguectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'seguectl --help'.\n", stderr);
	exit(EXIT_TROUBLE);
}

/* ---- pure helpers: ages, terminal-safe text ---- */

/* Writes an age in seconds the way people read it: 12s, 5m03s, 2h01m, 3d04h. */
static void format_age(double seconds, char *buf, size_t len)
{
	long long s = seconds > 0 ? (long long)seconds : 0;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* Seconds since an RFC 3339 UTC time such as "2026-11-26T12:00:03.123Z";
 * -1 when it cannot be read. */
static double seconds_since(const char *when)
{
	struct tm tm = {0};
	double frac = 0;
	int n = 0;
	struct timespec now;

	if (sscanf(when, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	if (when[n] == '.')
		frac = strtod(when + n, NULL);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	clock_gettime(CLOCK_REALTIME, &now);
	return (double)(now.tv_sec - timegm(&tm)) + now.tv_nsec / 1e9 - frac;
}

/* A copy of S fit for a terminal: control characters (C0, DEL and the C1
 * range, which some terminals obey) become '?'. Worker status text comes
 * from the application and must not be able to drive the terminal. */
static char *printable(const char *s)
{
	char *out = xstrdup(s);
	unsigned char *p = (unsigned char *)out;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
	return out;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- JSON answers ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static bool jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* Any scalar as text ("-" when missing), made safe for a terminal. */
static char *jtext(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return printable(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return xstrdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof buf, "%g", json_real_value(v));
		return xstrdup(buf);
	case JSON_TRUE:
		return xstrdup("yes");
	case JSON_FALSE:
		return xstrdup("no");
	default:
		return xstrdup("-");
	}
}

/* ---- aligned tables ---- */

struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, owned */
	size_t width[TABLE_COLS];
};

/* Adds a row; takes ownership of the ncols strings in ROW. */
static void table_add(struct table *t, char **row)
{
	size_t i;

	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		size_t w = text_width(row[i]);

		t->cells[t->nrows * t->ncols + i] = row[i];
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

/* Prints and frees the table; the last column is not padded. */
static void table_print(struct table *t, const char *indent)
{
	size_t r, c;

	for (r = 0; r < t->nrows; r++) {
		fputs(indent, stdout);
		for (c = 0; c < t->ncols; c++) {
			char *cell = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				printf("%s%*s  ", cell, (int)(t->width[c] - text_width(cell)), "");
			else
				printf("%s\n", cell);
			free(cell);
		}
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* ---- the connection ---- */

struct conn {
	int fd;
	const char *path;
	long long deadline;	  /* CLOCK_MONOTONIC ms, or NO_DEADLINE */
	const char *timeout_text; /* for the timeout message */
	const char *timeout_note; /* what a timeout leaves behind, or NULL */
	bool follow;		  /* a stream without end: events */
	char *buf;
	size_t off, len, cap; /* unread bytes are buf[off, len) */
	bool eof;
};

static long long now_ms(void)
{
	return (long long)(now_mono() * 1000);
}

static void timed_out(const struct conn *c) __attribute__((noreturn));
static void timed_out(const struct conn *c)
{
	if (c->follow)
		die(EXIT_TIMEOUT, "stopped following events after %s (--timeout)", c->timeout_text);
	if (c->timeout_note)
		die(EXIT_TIMEOUT, "no answer from segue within %s (--timeout); %s", c->timeout_text,
		    c->timeout_note);
	die(EXIT_TIMEOUT, "no answer from segue within %s", c->timeout_text);
}

/* Milliseconds poll() may wait before the deadline (-1: forever). */
static int remaining_ms(const struct conn *c)
{
	long long left;

	if (c->deadline == NO_DEADLINE)
		return -1;
	left = c->deadline - now_ms();
	if (left <= 0)
		timed_out(c);
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits until the socket is ready for EVENTS, or exits at the deadline. */
static void wait_for(struct conn *c, short events)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};

	for (;;) {
		int n = poll(&pfd, 1, remaining_ms(c));

		if (n > 0)
			return;
		if (n < 0 && errno != EINTR)
			die(EXIT_TROUBLE, "poll: %s", strerror(errno));
	}
}

static void connect_failed(const char *path, int err) __attribute__((noreturn));
static void connect_failed(const char *path, int err)
{
	struct stat st;

	if (err == EACCES || err == EPERM)
		die(EXIT_TROUBLE,
		    "permission denied on %s: the socket's mode or group (or a "
		    "directory above it) do not allow uid %u to connect; see "
		    "control-mode and control-group in segue.conf(5)",
		    path, (unsigned)geteuid());
	if (err == ECONNREFUSED && stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		die(EXIT_TROUBLE, "cannot connect to %s: it is not a socket", path);
	if (err == ENOENT || err == ECONNREFUSED)
		die(EXIT_TROUBLE, "cannot connect to %s: %s (is segue running?)", path,
		    strerror(err));
	die(EXIT_TROUBLE, "cannot connect to %s: %s", path, strerror(err));
}

/* Short pause while segue's accept queue is full. */
static void busy_pause(struct conn *c, long long give_up)
{
	if (now_ms() >= give_up) {
		if (c->deadline != NO_DEADLINE)
			timed_out(c);
		die(EXIT_TROUBLE,
		    "cannot connect to %s: segue accepts no more "
		    "connections (too busy?)",
		    c->path);
	}
	poll(NULL, 0, 20);
}

static void conn_open(struct conn *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long long give_up = c->deadline != NO_DEADLINE ? c->deadline : now_ms() + BUSY_RETRY_MS;
	int err = 0;
	socklen_t len = sizeof err;

	if (strlen(c->path) >= sizeof sa.sun_path)
		die(EXIT_TROUBLE, "control socket path is too long (at most %zu bytes): %s",
		    sizeof sa.sun_path - 1, c->path);
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die(EXIT_TROUBLE, "socket: %s", strerror(errno));
	while (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) { /* AF_UNIX: the backlog is full */
			busy_pause(c, give_up);
			continue;
		}
		if (errno != EINPROGRESS)
			connect_failed(c->path, errno);
		wait_for(c, POLLOUT);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			connect_failed(c->path, err);
		break;
	}
}

/* Sends all of LINE. Returns false when segue has already hung up: it may
 * have written why (a refused peer gets one error line), so the caller
 * still reads. */
static bool conn_send(struct conn *c, const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL);

		if (n >= 0) {
			line += n;
			len -= (size_t)n;
		} else if (errno == EAGAIN)
			wait_for(c, POLLOUT);
		else if (errno == EPIPE || errno == ECONNRESET)
			return false;
		else if (errno != EINTR)
			die(EXIT_TROUBLE, "sending to %s: %s", c->path, strerror(errno));
	}
	return true;
}

/* Reads more bytes into the buffer, growing it; false at end of stream. */
static bool conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->off > 0) { /* keep the unread part at the front */
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->cap - c->len < 4096) {
		if (c->cap >= ANSWER_MAX)
			die(EXIT_TROUBLE, "answer from segue is longer than %u bytes", ANSWER_MAX);
		c->cap = c->cap ? c->cap * 2 : 65536;
		c->buf = xrealloc(c->buf, c->cap + 1);
	}
	for (;;) {
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			return true;
		}
		if (n == 0 || errno == ECONNRESET)
			return false;
		if (errno == EAGAIN)
			wait_for(c, POLLIN);
		else if (errno != EINTR)
			die(EXIT_TROUBLE, "reading from %s: %s", c->path, strerror(errno));
	}
}

/* The next line, without its newline and NUL-terminated, valid until the
 * next call; an unterminated last line counts. NULL at end of stream. */
static char *conn_line(struct conn *c, size_t *len)
{
	size_t scanned = 0;

	for (;;) {
		char *start = c->buf ? c->buf + c->off : NULL;
		char *nl = c->len > c->off
			       ? memchr(start + scanned, '\n', c->len - c->off - scanned)
			       : NULL;

		if (nl) {
			*nl = '\0';
			*len = (size_t)(nl - start);
			c->off += *len + 1;
			return start;
		}
		scanned = c->len - c->off;
		if (c->eof || !conn_fill(c)) {
			c->eof = true;
			if (c->len == c->off)
				return NULL;
			*len = c->len - c->off;
			c->buf[c->len] = '\0';
			c->off = c->len;
			return c->buf + c->len - *len;
		}
	}
}

/* ---- commands: the verbs of proto.h ---- */

struct options {
	const char *socket;
	char socket_buf[PATH_MAX]; /* the default, when -s is not given */
	bool json;
	bool wait;
	bool watch;	/* reload --wait=watch: through the watch window */
	double timeout; /* seconds; -1: not given */
	const struct proto_verb *cmd;
	char **args;
};

static void show_sockets(const json_t *sockets)
{
	struct table t = {.ncols = 3};
	char *head[3];
	size_t i;
	json_t *s;

	if (!json_array_size(sockets))
		return;
	head[0] = xstrdup("SOCKET");
	head[1] = xstrdup("LISTEN");
	head[2] = xstrdup("FD");
	table_add(&t, head);
	json_array_foreach (sockets, i, s) {
		char *row[] = {jtext(s, "name"), jtext(s, "listen"), jtext(s, "fd")};

		table_add(&t, row);
	}
	putchar('\n');
	table_print(&t, "");
}

static char *worker_age(const json_t *w)
{
	const json_t *age = json_object_get(w, "age_s");
	double s = json_is_number(age) ? json_number_value(age) : -1;
	char buf[32];

	if (s < 0 && json_is_string(json_object_get(w, "since")))
		s = seconds_since(jstr(w, "since"));
	if (s < 0)
		return xstrdup("-");
	format_age(s, buf, sizeof buf);
	return xstrdup(buf);
}

static void show_workers(const json_t *workers)
{
	static const char *const names[] = {"PID", "SLOT",     "GEN",	"STATE",
					    "AGE", "RESTARTS", "STATUS"};
	struct table t = {.ncols = 7};
	char *head[7];
	size_t i;
	json_t *w;

	if (!json_array_size(workers)) {
		puts("  (no workers)");
		return;
	}
	for (i = 0; i < t.ncols; i++)
		head[i] = xstrdup(names[i]);
	table_add(&t, head);
	json_array_foreach (workers, i, w) {
		char *row[] = {jtext(w, "pid"),
			       jtext(w, "slot"),
			       jtext(w, "generation"),
			       jtext(w, "state"),
			       worker_age(w),
			       jtext(w, "restarts"),
			       json_object_get(w, "status") ? jtext(w, "status") : xstrdup("")};

		table_add(&t, row);
	}
	table_print(&t, "  ");
}

static void show_program(const json_t *p)
{
	char *name = jtext(p, "name"), *ready = jtext(p, "ready");
	char *desired = jtext(p, "desired"), *gen = jtext(p, "generation");
	char *dir = jtext(p, "directory");

	printf("\nprogram %s: %s/%s ready, generation %s, directory %s\n", name, ready, desired,
	       gen, dir);
	free(name);
	free(ready);
	free(desired);
	free(gen);
	free(dir);
	show_workers(json_object_get(p, "workers"));
}

static int show_status(const struct options *o, json_t *a)
{
	char *version = jtext(a, "version"), *pid = jtext(a, "pid");
	char *gen = jtext(a, "generation"), *last = jtext(a, "last_reload");
	const json_t *up = json_object_get(a, "uptime_s");
	char uptime[32] = "-";
	size_t i;
	json_t *p;

	if (json_is_number(up))
		format_age(json_number_value(up), uptime, sizeof uptime);
	printf("segue %s, pid %s, up %s, generation %s, reloading %s\n", version, pid, uptime, gen,
	       jbool(a, "reloading") ? "yes" : "no");
	printf("last reload: %s\n",
	       json_is_string(json_object_get(a, "last_reload")) && *jstr(a, "last_reload")
		   ? last
		   : "none");
	free(version);
	free(pid);
	free(gen);
	free(last);
	show_sockets(json_object_get(a, "sockets"));
	json_array_foreach (json_object_get(a, "programs"), i, p)
		show_program(p);
	return EXIT_OK;
}

static int show_unhealthy(json_t *a)
{
	const json_t *problems = json_object_get(a, "problems");
	size_t i;
	json_t *p;

	puts("unhealthy:");
	if (!json_array_size(problems)) {
		char *e = jtext(a, "error");

		printf("  %s\n", e);
		free(e);
	}
	json_array_foreach (problems, i, p) {
		char *s = printable(json_is_string(p) ? json_string_value(p) : "?");

		printf("  %s\n", s);
		free(s);
	}
	return EXIT_FAILED;
}

static int show_reload(const struct options *o, json_t *a)
{
	const char *what = o->cmd->name;

	if (!o->wait)
		printf("%s %" JSON_INTEGER_FORMAT " started\n", what,
		       json_integer_value(json_object_get(a, "reload")));
	else if (json_object_get(a, "watch")) {
		char *m = jtext(a, "message");
		printf("%s\n", m);
		free(m);
	} else if (json_object_get(a, "generation")) {
		char *r =
		    json_is_string(json_object_get(a, "release")) ? jtext(a, "release") : NULL;
		printf("generation %" JSON_INTEGER_FORMAT
		       " serving%s%s (%s took %" JSON_INTEGER_FORMAT " ms)\n",
		       json_integer_value(json_object_get(a, "generation")),
		       r && *r ? " release " : "", r && *r ? r : "", what,
		       (json_int_t)json_number_value(json_object_get(a, "duration_ms")));
		free(r);
	} else
		printf("%s %" JSON_INTEGER_FORMAT " done\n", what,
		       json_integer_value(json_object_get(a, "reload")));
	return EXIT_OK;
}

static int show_scale(const struct options *o, json_t *a)
{
	char *prog = json_object_get(a, "program") ? jtext(a, "program") : printable(o->args[0]);
	char *n = json_object_get(a, "desired") ? jtext(a, "desired") : printable(o->args[1]);

	printf("%s: %s worker%s desired\n", prog, n, strcmp(n, "1") ? "s" : "");
	free(prog);
	free(n);
	return EXIT_OK;
}

static int show_signal(const struct options *o, json_t *a)
{
	char *prog = printable(o->args[0]), *sig = printable(o->args[1]);
	char *n = jtext(a, "signalled");

	printf("%s: %s sent to %s worker%s\n", prog, sig, n, strcmp(n, "1") ? "s" : "");
	free(prog);
	free(sig);
	free(n);
	return EXIT_OK;
}

static int show_version(const struct options *o, json_t *a)
{
	char *v = jtext(a, "version");

	printf("segue %s (seguectl %s)\n", v, PACKAGE_VERSION);
	free(v);
	return EXIT_OK;
}

static int show_upgrade(const struct options *o, json_t *a)
{
	char *msg = jtext(a, "message");

	puts(*msg ? msg : "segue upgraded");
	free(msg);
	return EXIT_OK;
}

static int show_health(const struct options *o, json_t *a)
{
	puts("healthy");
	return EXIT_OK;
}

static int show_stop(const struct options *o, json_t *a)
{
	puts("segue is stopping");
	return EXIT_OK;
}

/* Shows a successful answer; returns the exit status. */
typedef int show_fn(const struct options *o, json_t *answer);

/* How each kind of request's answer is shown. The streams, metrics and
 * events, have none: stream() copies their lines. */
static show_fn *const shows[] = {
    [REQ_STATUS] = show_status,	  [REQ_HEALTH] = show_health,	[REQ_RELOAD] = show_reload,
    [REQ_ROLLBACK] = show_reload, [REQ_SCALE] = show_scale,	[REQ_SIGNAL] = show_signal,
    [REQ_STOP] = show_stop,	  [REQ_VERSION] = show_version, [REQ_UPGRADE] = show_upgrade,
};

static int show_answer(const struct options *o, json_t *a)
{
	size_t kind = o->cmd->kind;

	if (kind >= ARRAY_SIZE(shows) || !shows[kind])
		die(EXIT_TROUBLE, "%s: seguectl cannot show this answer", o->cmd->name);
	return shows[kind](o, a);
}

/* ---- socket path, help, command line ---- */

/* The socket seguectl talks to without -s: the one segue listens on
 * without a control key (paths.h). A path cut short at PATH_MAX is still
 * longer than any socket address: conn_open refuses it. */
static const char *default_socket(struct options *o)
{
	(void)control_default_path(o->socket_buf, sizeof o->socket_buf);
	return o->socket_buf;
}

static void help(struct options *o) __attribute__((noreturn));
static void help(struct options *o)
{
	size_t i;

	printf("usage: seguectl [-s PATH] [--json] COMMAND [ARG ...] [OPTIONS]\n"
	       "Talks to segue's control socket.\n\n"
	       "Options, before the command:\n"
	       "  -s, --socket PATH  control socket (now: %s)\n"
	       "      --json         print segue's answer as it came, one JSON line\n"
	       "  -h, --help         show this help\n"
	       "  -V, --version      show seguectl's version\n\n"
	       "Commands:\n",
	       default_socket(o));
	for (i = 0; i < proto_nverbs; i++) {
		const struct proto_verb *v = &proto_verbs[i];

		printf("  %-8s %-12s %s\n", v->name, v->flags & VERB_WAIT ? "[--wait]" : v->args,
		       v->summary);
	}
	printf("\nOptions, after the command:\n"
	       "  --wait             reload, rollback: answer when it has ended\n"
	       "  --wait=watch       reload: answer when its watch window has ended\n"
	       "  --timeout DUR      give up after DUR (120, 250ms, 30s, 5m, 1h)\n\n"
	       "Exit status: 0 success or healthy; 1 the command failed, was rolled\n"
	       "back or segue is unhealthy; 2 cannot connect, or usage error;\n"
	       "3 --timeout reached.\n");
	exit(EXIT_OK);
}

static const struct proto_verb *find_command(const char *name)
{
	const struct proto_verb *v = proto_verb_named(name);

	if (!v)
		usage_error("unknown command '%s'", name);
	return v;
}

/* An argument goes into a space-separated request line. */
static void check_word(const char *what, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p)
		usage_error("%s is empty", what);
	for (; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			usage_error("%s must not contain spaces or control characters", what);
}

/* scale PROGRAM N, signal PROGRAM SIG: what segue would refuse anyway,
 * refused here with a usage message. */
static void check_args(const struct proto_verb *v, const char *program, const char *value)
{
	check_word("PROGRAM", program);
	if (v->kind != REQ_SCALE)
		check_word("SIG", value);
	else if (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 6)
		usage_error("scale: N must be a number of workers, not '%s'", value);
}

static void set_timeout(struct options *o, const char *dur)
{
	if (parse_duration(dur, &o->timeout) < 0)
		usage_error("--timeout: bad duration '%s' (try 120, 250ms, 30s, 5m, 1h)", dur);
}

/* The command's own arguments and options, which come after it. */
static void parse_command_args(struct options *o, int argc, char **argv)
{
	int i, n = 0;
	bool options = true;

	o->args = xrealloc(NULL, (size_t)(argc + 1) * sizeof *o->args);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (options && !strcmp(a, "--"))
			options = false;
		else if (options && !strcmp(a, "--wait") && (o->cmd->flags & VERB_WAIT))
			o->wait = true;
		else if (options && !strcmp(a, "--wait=watch") && o->cmd->kind == REQ_RELOAD)
			o->wait = o->watch = true;
		else if (options && !strcmp(a, "--timeout")) {
			if (i + 1 >= argc)
				usage_error("--timeout needs a duration");
			set_timeout(o, argv[++i]);
		} else if (options && !strncmp(a, "--timeout=", 10))
			set_timeout(o, a + 10);
		else if (options && !strcmp(a, "--json"))
			o->json = true;
		else if (options && (!strcmp(a, "--help") || !strcmp(a, "-h")))
			help(o);
		else if (options && a[0] == '-' && a[1])
			usage_error("%s: unknown option '%s'", o->cmd->name, a);
		else
			o->args[n++] = argv[i];
	}
	o->args[n] = NULL;
	if (n != o->cmd->nargs && o->cmd->nargs == 0)
		usage_error("%s takes no arguments", o->cmd->name);
	if (n != o->cmd->nargs)
		usage_error("usage: seguectl %s %s", o->cmd->name, o->cmd->args);
	if (n == 2)
		check_args(o->cmd, o->args[0], o->args[1]);
}

static void parse_options(struct options *o, int argc, char **argv)
{
	/* --control is segue's name for the option, accepted here too */
	static const struct option longopts[] = {
	    {.name = "socket", .has_arg = required_argument, .val = 's'},
	    {.name = "control", .has_arg = required_argument, .val = 's'},
	    {.name = "json", .val = 'j'},
	    {.name = "help", .val = 'h'},
	    {.name = "version", .val = 'V'},
	    {0},
	};
	int c;

	o->timeout = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			help(o);
		case 'V':
			printf("seguectl %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no command given");
	if (!strcmp(argv[optind], "help"))
		help(o);
	o->cmd = find_command(argv[optind]);
	parse_command_args(o, argc - optind - 1, argv + optind + 1);
	if (!o->socket || !*o->socket)
		o->socket = default_socket(o);
}

/* ---- one request, one answer ---- */

/* Appends sep and word to the request line; a line over the protocol's
 * limit is a usage error. */
static void append(char *buf, size_t len, size_t *used, const char *sep, const char *word)
{
	int n = snprintf(buf + *used, len - *used, "%s%s", sep, word);

	if (n < 0 || (size_t)n >= len - *used)
		usage_error("request is longer than %d bytes", REQUEST_MAX);
	*used += (size_t)n;
}

/* The verb, its arguments, and "wait" if asked for: the protocol's words. */
static size_t build_request(const struct options *o, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	append(buf, len, &used, "", o->cmd->name);
	for (i = 0; o->args[i]; i++)
		append(buf, len, &used, " ", o->args[i]);
	append(buf, len, &used, o->watch ? " watch" : o->wait ? " wait" : "", "\n");
	return used;
}

/* Milliseconds in a duration; a part of one counts as one. */
static long long duration_ms(double seconds)
{
	double ms = seconds * 1000;
	long long whole = (long long)ms;

	return ms - (double)whole > 1e-6 ? whole + 1 : whole;
}

static void set_deadline(struct conn *c, const struct options *o)
{
	static char text[32], note[80];
	double timeout = o->timeout;
	bool follow = o->cmd->kind == REQ_EVENTS;

	if (timeout < 0) /* the command's default */
		timeout = o->wait || follow		? 0
			  : o->cmd->kind == REQ_UPGRADE ? UPGRADE_TIMEOUT
							: SIMPLE_TIMEOUT;
	format_duration(timeout, text, sizeof text);
	c->timeout_text = text;
	c->follow = follow;
	c->deadline = duration_ms(timeout) > 0 ? now_ms() + duration_ms(timeout) : NO_DEADLINE;
	snprintf(note, sizeof note, "the %s goes on inside segue: see 'seguectl status'",
		 o->cmd->name);
	if (o->wait)
		c->timeout_note = note;
}

/* Parses an answer line; exits when it is not a JSON object. */
static json_t *parse_answer(const char *line, size_t len)
{
	json_t *a = json_loadb(line, len, 0, NULL);

	char *shown;

	if (a && json_is_object(a) && json_is_boolean(json_object_get(a, "ok")))
		return a;
	shown = printable(line);
	die(EXIT_TROUBLE, "unexpected answer from segue: %.200s%s", shown,
	    strlen(shown) > 200 ? "..." : "");
}

/* An ok:false answer: prints why and returns the exit status. */
static int show_failure(const struct options *o, const struct conn *c, json_t *a)
{
	const char *name = o->cmd->name;
	char *error = printable(jstr(a, "error"));
	int status = EXIT_FAILED;

	if (!strncmp(error, "permission denied", 17)) {
		fprintf(stderr,
			"seguectl: permission denied on %s: %s (segue serves root, "
			"its own user and members of control-group)\n",
			c->path, error + 17 + strspn(error + 17, ": "));
		status = EXIT_TROUBLE;
	} else if (o->cmd->kind == REQ_HEALTH && !strcmp(error, "unhealthy"))
		status = show_unhealthy(a);
	else if (o->cmd->flags & VERB_WAIT)
		fprintf(stderr, "%s failed: %s\n", name, error);
	else
		fprintf(stderr, "seguectl: %s failed: %s\n", name, error);
	free(error);
	return status;
}

/* Flushes standard output; a reader that left early (| head) is no error. */
static int finish(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		die(EXIT_FAILED, "writing to standard output: %s", strerror(errno));
	}
	return status;
}

static int request(const struct options *o, struct conn *c)
{
	size_t len;
	char *line = conn_line(c, &len);
	json_t *a;
	int status;

	if (!line)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	a = parse_answer(line, len);
	if (o->json) {
		printf("%s\n", line);
		status = jbool(a, "ok")					       ? EXIT_OK
			 : !strncmp(jstr(a, "error"), "permission denied", 17) ? EXIT_TROUBLE
									       : EXIT_FAILED;
	} else if (jbool(a, "ok"))
		status = show_answer(o, a);
	else
		status = show_failure(o, c, a);
	json_decref(a);
	return finish(status);
}

/* ---- streams: metrics and events ---- */

static void quiet_exit(int sig)
{
	_exit(EXIT_OK);
}

/* Following events ends with ^C or kill: quietly, with status 0. A
 * signal the caller ignores (a background job's SIGINT) stays ignored. */
static void quiet_on_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = quiet_exit}, old;
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

static void put_line(const char *line, size_t len, bool flush)
{
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF ||
	    (flush && fflush(stdout) == EOF)) {
		if (errno == EPIPE)
			_exit(EXIT_OK); /* the reader left: that is how one stops */
		die(EXIT_FAILED, "writing to standard output: %s", strerror(errno));
	}
}

/* The first line may be an error instead of the stream (a refused peer),
 * or an acknowledgement; returns true when it belongs to the stream. */
static bool stream_head(const struct options *o, const struct conn *c, const char *line, size_t len,
			int *status)
{
	json_t *a;
	bool data = true;

	if (line[0] != '{')
		return true;
	a = json_loadb(line, len, 0, NULL);
	if (json_is_object(a) && json_is_boolean(json_object_get(a, "ok")) &&
	    !json_object_get(a, "event")) {
		data = false;
		if (!jbool(a, "ok"))
			*status = show_failure(o, c, a);
	}
	json_decref(a);
	return data;
}

static int stream(const struct options *o, struct conn *c)
{
	bool events = o->cmd->kind == REQ_EVENTS;
	int status = EXIT_OK;
	bool first = true;
	size_t len;
	char *line;

	if (events)
		quiet_on_signals();
	while ((line = conn_line(c, &len))) {
		bool data = !first || stream_head(o, c, line, len, &status);

		if (status != EXIT_OK)
			return finish(status);
		if (data)
			put_line(line, len, events);
		first = false;
	}
	if (first)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	return finish(EXIT_OK);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct conn c = {.fd = -1};
	char req[REQUEST_MAX + 1];
	size_t len;
	int status;

	signal(SIGPIPE, SIG_IGN);
	parse_options(&o, argc, argv);
	len = build_request(&o, req, sizeof req);
	c.path = o.socket;
	set_deadline(&c, &o);
	conn_open(&c);
	conn_send(&c, req, len);
	status = (o.cmd->flags & VERB_STREAM) ? stream(&o, &c) : request(&o, &c);
	close(c.fd);
	free(c.buf);
	free(o.args);
	return status;
}
