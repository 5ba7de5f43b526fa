/* ctl-events.c: the streams (metrics, events): copied as they come, or events made readable and
 * filtered. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- filters ---- */

static bool in_list(const char *const *list, const char *s, bool prefix)
{
	for (; *list; list++)
		if (prefix ? !strncmp(s, *list, strlen(*list)) : !strcmp(s, *list))
			return true;
	return false;
}

/* --program NAME (any of them), --event PREFIX (any of them). */
static bool wanted(const struct options *o, const json_t *e)
{
	if (o->programs && !in_list(o->programs, jstr(e, "program"), false))
		return false;
	return !o->events || in_list(o->events, jstr(e, "event"), true);
}

/* ---- one event, readable ---- */

/* "15:01:56.594" in local time, from an RFC 3339 UTC "ts". */
static void local_time(const char *ts, char *buf, size_t len)
{
	struct tm tm = {0};
	int ms = 0, n = 0;
	time_t t;

	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
		snprintf(buf, len, "%-12s", "?");
		return;
	}
	if (ts[n] == '.')
		ms = atoi(ts + n + 1) % 1000;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "?");
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03d", ms);
}

static const char *level_colour(const char *level)
{
	if (!strcmp(level, "error"))
		return SGR_RED SGR_BOLD;
	if (!strcmp(level, "warn"))
		return SGR_YELLOW;
	return SGR_GREEN;
}

/* " app", " gen 3", " release r1": the fields present, in this order. */
static void put_where(const json_t *e, const struct term *t)
{
	static const char *const keys[] = {"program", "generation", "release"};
	static const char *const labels[] = {"", "gen ", "release "};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char *v;

		if (!json_object_get(e, keys[i]))
			continue;
		v = jtext(e, keys[i]);
		printf(" %s%s%s%s", term_sgr(t, SGR_CYAN), labels[i], v, term_sgr(t, SGR_RESET));
		free(v);
	}
}

static void put_readable(const json_t *e, const struct term *t)
{
	char when[32], *level = printable(jstr(e, "level")), *name = printable(jstr(e, "event"));
	char *msg = printable(json_object_get(e, "msg") ? jstr(e, "msg") : jstr(e, "reason"));

	local_time(jstr(e, "ts"), when, sizeof when);
	printf("%s%s%s %s%-5s%s %s%-16s%s", term_sgr(t, SGR_DIM), when, term_sgr(t, SGR_RESET),
	       term_sgr(t, level_colour(level)), level, term_sgr(t, SGR_RESET),
	       term_sgr(t, SGR_BOLD), name, term_sgr(t, SGR_RESET));
	put_where(e, t);
	if (*msg)
		printf("  %s", msg);
	put_line("", 0, true);
	free(level);
	free(name);
	free(msg);
}

/* One line of the events stream: as it came, readable (T set), or not at
 * all when a filter leaves it out. */
static void put_event(const struct options *o, const struct term *t, const char *line, size_t len)
{
	json_t *e;

	if (!t && !o->programs && !o->events) {
		put_line(line, len, true);
		return;
	}
	e = json_loadb(line, len, 0, NULL);
	if (!json_is_object(e)) { /* not an event: shown, never acted on */
		char *shown = printable(line);

		if (!o->programs && !o->events)
			put_line(shown, strlen(shown), true);
		free(shown);
	} else if (wanted(o, e)) {
		if (t)
			put_readable(e, t);
		else
			put_line(line, len, true);
	}
	json_decref(e);
}

int stream_copy(const struct options *o, struct conn *c)
{
	bool events = o->cmd->kind == REQ_EVENTS;
	struct term term = term_of(STDOUT_FILENO);
	const struct term *readable = events && !o->json && term.tty ? &term : NULL;
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
		if (data && events)
			put_event(o, readable, line, len);
		else if (data)
			put_line(line, len, false);
		first = false;
	}
	if (first)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	return finish(EXIT_OK);
}
