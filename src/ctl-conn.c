/* ctl-conn.c: seguectl's connections to the control socket: requests, answers, streams. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX    (64u * 1024 * 1024) /* a sanity limit on one answer line */
#define BUSY_RETRY_MS 10000		  /* a full accept queue, without a deadline */

long long now_ms(void)
{
	return (long long)(now_mono() * 1000);
}

void timed_out(const struct conn *c)
{
	if (c->follow)
		die(EXIT_TIMEOUT, "stopped following events after %s (--timeout)", c->timeout_text);
	if (c->timeout_note)
		die(EXIT_TIMEOUT, "no answer from segue within %s (--timeout); %s", c->timeout_text,
		    c->timeout_note);
	die(EXIT_TIMEOUT, "no answer from segue within %s", c->timeout_text);
}

int remaining_ms(const struct conn *c)
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

int conn_connect(struct conn *c)
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
			return errno;
		wait_for(c, POLLOUT);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		return err;
	}
	return 0;
}

void conn_open(struct conn *c)
{
	int err = conn_connect(c);

	if (err)
		connect_failed(c->path, err);
}

/* Sends all of LINE. Returns false when segue has already hung up: it may
 * have written why (a refused peer gets one error line), so the caller
 * still reads. */
bool conn_send(struct conn *c, const char *line, size_t len)
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

/* Makes room for more bytes: the unread part moves to the front, the
 * buffer grows up to the limit on one answer. */
static void conn_room(struct conn *c)
{
	if (c->off > 0) {
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
}

/* Reads more bytes into the buffer; false at end of stream. With BLOCK,
 * waits for them (until the deadline); without, returns true when there
 * are none yet. */
static bool conn_fill(struct conn *c, bool block)
{
	ssize_t n;

	conn_room(c);
	for (;;) {
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			return true;
		}
		if (n == 0 || errno == ECONNRESET)
			return false;
		if (errno == EAGAIN && !block)
			return true;
		if (errno == EAGAIN)
			wait_for(c, POLLIN);
		else if (errno != EINTR)
			die(EXIT_TROUBLE, "reading from %s: %s", c->path, strerror(errno));
	}
}

bool conn_read_now(struct conn *c)
{
	if (!c->eof && !conn_fill(c, false))
		c->eof = true;
	return !c->eof;
}

/* Lines are returned without their newline and NUL-terminated, valid
 * until the next call; an unterminated last line counts. */
char *conn_buffered(struct conn *c, size_t *len)
{
	char *start = c->buf ? c->buf + c->off : NULL;
	char *nl = c->len - c->off > c->scanned
		       ? memchr(start + c->scanned, '\n', c->len - c->off - c->scanned)
		       : NULL;

	if (nl) {
		*nl = '\0';
		*len = (size_t)(nl - start);
		c->off += *len + 1;
		c->scanned = 0;
		return start;
	}
	c->scanned = c->len - c->off; /* no newline up to here: not scanned again */
	if (!c->eof || c->len == c->off)
		return NULL;
	*len = c->len - c->off;
	c->buf[c->len] = '\0';
	c->off = c->len;
	c->scanned = 0;
	return c->buf + c->len - *len;
}

char *conn_line(struct conn *c, size_t *len)
{
	char *line;

	while (!(line = conn_buffered(c, len))) {
		if (c->eof)
			return NULL;
		if (!conn_fill(c, true))
			c->eof = true;
	}
	return line;
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->off = c->len = c->cap = c->scanned = 0;
	c->eof = false;
}

json_t *conn_ask(struct conn *c, const char *request)
{
	size_t len;
	char *line;

	conn_send(c, request, strlen(request));
	line = conn_line(c, &len);
	if (!line)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	return parse_answer(line, len);
}

bool conn_subscribe(struct conn *ev, const struct conn *like)
{
	json_t *a;
	bool ok;

	*ev = (struct conn){.fd = -1,
			    .path = like->path,
			    .deadline = like->deadline,
			    .timeout_text = like->timeout_text,
			    .timeout_note = like->timeout_note};
	conn_open(ev);
	a = conn_ask(ev, "events\n");
	ok = jbool(a, "ok");
	json_decref(a);
	if (!ok)
		conn_close(ev);
	return ok;
}

/* Parses an answer line; exits when it is not a JSON object. */
json_t *parse_answer(const char *line, size_t len)
{
	json_t *a = json_loadb(line, len, 0, NULL);

	char *shown;

	if (a && json_is_object(a) && json_is_boolean(json_object_get(a, "ok")))
		return a;
	shown = printable(line);
	die(EXIT_TROUBLE, "unexpected answer from segue: %.200s%s", shown,
	    strlen(shown) > 200 ? "..." : "");
}
