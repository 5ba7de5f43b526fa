/* ctl-text.c: seguectl's messages, terminal-safe text and JSON fields. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void die(int status, const char *fmt, ...)
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

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("seguectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'seguectl --help'.\n", stderr);
	exit(EXIT_TROUBLE);
}

/* Writes an age in seconds the way people read it: 12s, 5m03s, 2h01m, 3d04h. */
void format_age(double seconds, char *buf, size_t len)
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
double seconds_since(const char *when)
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
char *printable(const char *s)
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
size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

bool jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* Any scalar as text ("-" when missing), made safe for a terminal. */
char *jtext(const json_t *o, const char *key)
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

/* Flushes standard output; a reader that left early (| head) is no error. */
int finish(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		die(EXIT_FAILED, "writing to standard output: %s", strerror(errno));
	}
	return status;
}

static void quiet_exit(int sig)
{
	_exit(EXIT_OK);
}

/* Following events ends with ^C or kill: quietly, with status 0. A
 * signal the caller ignores (a background job's SIGINT) stays ignored. */
void quiet_on_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = quiet_exit}, old;
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}
