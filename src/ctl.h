/* ctl.h: seguectl's private interface, one section per file of the client. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CTL_H
#define SEGUE_CTL_H

#include "proto.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit status: what a deploy script or a health check acts on. */
enum {
	EXIT_OK = 0,	  /* success, healthy */
	EXIT_FAILED = 1,  /* segue said no: ok:false, unhealthy, reload rolled back */
	EXIT_TROUBLE = 2, /* cannot connect or talk to segue; usage error */
	EXIT_TIMEOUT = 3, /* --timeout reached */
};

#define NO_DEADLINE (-1LL)

#define SGR_RESET  "\033[0m"
#define SGR_BOLD   "\033[1m"
#define SGR_DIM	   "\033[2m"
#define SGR_RED	   "\033[31m"
#define SGR_GREEN  "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_CYAN   "\033[36m"

/* The command line, as seguectl.c parsed it. */
struct options {
	const char *socket;
	char socket_buf[PATH_MAX]; /* the default, when -s is not given */
	bool json;
	bool wait;
	bool quiet;	 /* --quiet: the result only, no progress */
	bool watch;	 /* status --watch */
	bool wait_watch; /* reload --wait=watch: through the watch window */
	double interval; /* status --watch: seconds between two requests, at least */
	double timeout;	 /* seconds; -1: not given */
	const char **programs, **events; /* events --program, --event; NULL-ended */
	const struct proto_verb *cmd;
	char **args;
};

/* ---- ctl-text.c: messages and terminal-safe text ---- */

void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* An age the way people read it: 12s, 5m03s, 2h01m, 3d04h. */
void format_age(double seconds, char *buf, size_t len);
/* Seconds since an RFC 3339 UTC time; -1 when it cannot be read. */
double seconds_since(const char *when);
/* A copy of S with control characters (C0, DEL, C1) made '?'. */
char *printable(const char *s);
/* Display width of UTF-8 text: one column per code point. */
size_t text_width(const char *s);
const char *jstr(const json_t *o, const char *key);
bool jbool(const json_t *o, const char *key);
/* Any scalar as text ("-" when missing), made safe for a terminal. */
char *jtext(const json_t *o, const char *key);
/* Flushes standard output; a reader that left early is no error. */
int finish(int status);
/* Follow commands end with ^C or kill quietly, with status 0. */
void quiet_on_signals(void);

/* ---- ctl-term.c: what the terminal can do ---- */

struct term {
	bool tty;    /* the descriptor is a terminal */
	bool live;   /* and it can redraw in place: TERM is set and not dumb */
	bool colour; /* and NO_COLOR is not set */
};

/* What FD (standard output or error) can show. */
struct term term_of(int fd);
/* CODE (an ANSI SGR sequence) when T shows colour, else "". */
const char *term_sgr(const struct term *t, const char *code);

/* ---- ctl-conn.c: one connection to the control socket ---- */

struct conn {
	int fd;
	const char *path;
	long long deadline;	  /* CLOCK_MONOTONIC ms, or NO_DEADLINE */
	const char *timeout_text; /* for the timeout message */
	const char *timeout_note; /* what a timeout leaves behind, or NULL */
	bool follow;		  /* a stream without end: events */
	char *buf;
	size_t off, len, cap; /* unread bytes are buf[off, len) */
	size_t scanned;	      /* of them, known to hold no newline */
	bool eof;
};

long long now_ms(void);
void timed_out(const struct conn *c) __attribute__((noreturn));
/* Milliseconds poll() may wait before the deadline (-1: forever). */
int remaining_ms(const struct conn *c);
/* Connects C (a full accept queue is waited out); exits when it cannot. */
void conn_open(struct conn *c);
/* The same, but returns the errno of a failed connect (0: connected). */
int conn_connect(struct conn *c);
void conn_close(struct conn *c);
/* Sends all of LINE; false when segue has already hung up. */
bool conn_send(struct conn *c, const char *line, size_t len);
/* The next line, NUL-terminated and valid until the next call; NULL at
 * end of stream. Waits for it. */
char *conn_line(struct conn *c, size_t *len);
/* The next line if one is buffered (or the stream ended after one), else
 * NULL; never waits. */
char *conn_buffered(struct conn *c, size_t *len);
/* Reads what the socket holds now, without waiting; false at end of stream. */
bool conn_read_now(struct conn *c);
/* Opens a second connection to the same socket and subscribes it to
 * events; returns once segue said the subscription holds, false (and
 * closed) when segue refused it. */
bool conn_subscribe(struct conn *ev, const struct conn *like);
/* One request, its answer parsed (exits when it is not a JSON object). */
json_t *conn_ask(struct conn *c, const char *request);
/* Parses an answer line; exits when it is not a JSON object with "ok". */
json_t *parse_answer(const char *line, size_t len);

/* ---- ctl-show.c: answers as people read them ---- */

/* A successful answer A, shown; returns the exit status. */
int show_answer(const struct options *o, json_t *a);
/* An ok:false answer: prints why and returns the exit status. */
int show_failure(const struct options *o, const struct conn *c, json_t *a);
/* The answer LINE to the request sent on C, shown as the command line
 * asks (--json: as it came); returns the exit status. */
int answer_show(const struct options *o, const struct conn *c, const char *line, size_t len);

/* ---- ctl-progress.c: reload, rollback, upgrade --wait, with progress ---- */

/* Sends REQUEST on C and shows the phases segue goes through until the
 * answer; returns the exit status. */
int progress_wait(const struct options *o, struct conn *c, const char *request, size_t len);

/* ---- ctl-events.c: the streams; events for people, and filtered ---- */

/* Copies metrics or events (the request sent on C) to standard output:
 * events readable on a terminal, filtered by --program and --event. */
int stream_copy(const struct options *o, struct conn *c);

/* ---- ctl-watch.c: status --watch ---- */

int watch_status(const struct options *o, struct conn *c);

/* ---- ctl-complete.c: words for shell completion ---- */

int complete_words(const char *what, const char *socket);

#endif
