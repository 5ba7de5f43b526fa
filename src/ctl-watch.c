/* ctl-watch.c: status --watch: the status table, asked again only after an event, redrawn in place.
 */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_INTERVAL_S 1     /* default --interval */
#define ASK_TIMEOUT_MS	 10000 /* one status request */

struct watch {
	const struct options *o;
	struct term term;
	double interval_ms;
	long long asked; /* now_ms of the last status request */
	bool pending;	 /* an event came since */
	bool stopping;	 /* segue said it stops: it may go away before an answer */
	bool stopped;	 /* it has: the last table is shown */
};

/* Reads the events that came: any but a worker's output may change the
 * table. False when segue closed the stream. */
static bool take_events(struct watch *w, struct conn *c)
{
	bool open = conn_read_now(c);
	size_t len;
	char *line;

	while ((line = conn_buffered(c, &len))) {
		json_t *e = json_loadb(line, len, 0, NULL);
		const char *name = jstr(e, "event");

		if (strcmp(name, "output"))
			w->pending = true;
		if (!strcmp(name, "stopping"))
			w->stopping = true;
		if (!strcmp(name, "stopped"))
			w->stopped = true;
		json_decref(e);
	}
	return open;
}

/* Asks for status on a connection of its own, which ends with the
 * answer: a request connection left open would wake segue at its idle
 * limit. NULL when it failed: ERR is the connect's errno, or 0 when segue
 * closed the connection before answering. */
static json_t *ask_status(const struct conn *events, int *err)
{
	struct conn q = {.fd = -1,
			 .path = events->path,
			 .deadline = now_ms() + ASK_TIMEOUT_MS,
			 .timeout_text = "10s"};
	json_t *a = NULL;
	size_t len;
	char *line;

	*err = conn_connect(&q);
	if (!*err && conn_send(&q, "status\n", 7) && (line = conn_line(&q, &len)))
		a = parse_answer(line, len);
	conn_close(&q);
	return a;
}

/* A status request failed: fine when segue is stopping (the events
 * stream says so, or ends, within a moment); else the end of the watch. */
static void ask_failed(struct watch *w, struct conn *events, int err)
{
	long long give_up = now_ms() + ASK_TIMEOUT_MS / 5;

	while (!w->stopping && !w->stopped && now_ms() < give_up) {
		struct pollfd pfd = {.fd = events->fd, .events = POLLIN};

		if (poll(&pfd, 1, (int)(give_up - now_ms())) > 0 && !take_events(w, events))
			w->stopped = true;
	}
	if (w->stopping || w->stopped) {
		w->stopped = true;
		return;
	}
	if (err)
		die(EXIT_TROUBLE, "cannot connect to %s: %s", events->path, strerror(err));
	die(EXIT_TROUBLE, "segue closed the connection before answering");
}

static void redraw(struct watch *w, struct conn *events)
{
	char when[16] = "?";
	time_t now = time(NULL);
	struct tm tm;
	int err;
	json_t *a = ask_status(events, &err);

	w->asked = now_ms();
	w->pending = false;
	if (!a) {
		ask_failed(w, events, err);
		return;
	}
	if (localtime_r(&now, &tm))
		strftime(when, sizeof when, "%H:%M:%S", &tm);
	if (w->term.live)
		printf("\033[H\033[2JEvery change, at most every %gs: seguectl status%*s%s\n\n",
		       w->interval_ms / 1000, 20, "", when);
	else
		printf("--- %s\n", when);
	if (!jbool(a, "ok"))
		exit(finish(show_failure(w->o, events, a)));
	show_answer(w->o, a);
	json_decref(a);
	if (fflush(stdout) == EOF)
		exit(finish(EXIT_OK));
}

/* How long to sleep: until the interval since the last request has
 * passed when an event waits, else until the next event (or --timeout). */
static int sleep_ms(const struct watch *w, const struct conn *c)
{
	int until_deadline = remaining_ms(c); /* exits at --timeout */
	long long ms;

	if (!w->pending)
		return until_deadline;
	ms = w->asked + (long long)w->interval_ms - now_ms();
	if (ms < 0)
		ms = 0;
	return until_deadline >= 0 && until_deadline < ms ? until_deadline : (int)ms;
}

int watch_status(const struct options *o, struct conn *c)
{
	struct watch w = {.o = o, .term = term_of(STDOUT_FILENO)};
	json_t *ack;

	w.interval_ms = (o->interval > 0 ? o->interval : WATCH_INTERVAL_S) * 1000;
	quiet_on_signals();
	ack = conn_ask(c, "events\n");
	if (!jbool(ack, "ok"))
		return finish(show_failure(o, c, ack));
	json_decref(ack);
	redraw(&w, c);
	while (!w.stopped) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int n = poll(&pfd, 1, sleep_ms(&w, c));

		if (n < 0 && errno != EINTR)
			die(EXIT_TROUBLE, "poll: %s", strerror(errno));
		if (n > 0 && !take_events(&w, c))
			break;
		if (!w.stopped && w.pending && now_ms() >= w.asked + (long long)w.interval_ms)
			redraw(&w, c);
	}
	printf("segue stopped\n");
	return finish(EXIT_OK);
}
