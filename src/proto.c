/* proto.c: the control protocol's request lines, parsed without I/O. */
/* SPDX-License-Identifier: MIT */
#include "proto.h"
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 4

struct words {
	int n;
	char w[MAX_WORDS][PROTO_MAX_NAME];
};

static int split(const char *line, size_t len, struct words *out, char *err, size_t errlen)
{
	out->n = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)line[i];
		if (c == ' ' || c == '\t') {
			i++;
			continue;
		}
		if (c < 0x21 || c > 0x7e) {
			snprintf(err, errlen, "request holds a byte that is not printable ASCII (0x%02x)", c);
			return -1;
		}
		size_t start = i;
		while (i < len && line[i] > ' ' && (unsigned char)line[i] <= 0x7e)
			i++;
		if (out->n == MAX_WORDS) {
			snprintf(err, errlen, "too many words in request");
			return -1;
		}
		if (i - start >= PROTO_MAX_NAME) {
			snprintf(err, errlen, "word too long in request");
			return -1;
		}
		memcpy(out->w[out->n], line + start, i - start);
		out->w[out->n][i - start] = '\0';
		out->n++;
	}
	return 0;
}

struct verb {
	const char *name;
	enum request_kind kind;
	int min_args, max_args;
	const char *usage;
};

static const struct verb verbs[] = {
	{"status", REQ_STATUS, 0, 0, "status"},
	{"health", REQ_HEALTH, 0, 0, "health"},
	{"reload", REQ_RELOAD, 0, 1, "reload [wait]"},
	{"rollback", REQ_ROLLBACK, 0, 1, "rollback [wait]"},
	{"scale", REQ_SCALE, 2, 2, "scale PROGRAM N"},
	{"signal", REQ_SIGNAL, 2, 2, "signal PROGRAM SIGNAL"},
	{"upgrade", REQ_UPGRADE, 0, 0, "upgrade"},
	{"stop", REQ_STOP, 0, 0, "stop"},
	{"metrics", REQ_METRICS, 0, 0, "metrics"},
	{"events", REQ_EVENTS, 0, 0, "events"},
	{"version", REQ_VERSION, 0, 0, "version"},
};

static int parse_count(const char *s, int *n)
{
	if (strspn(s, "0123456789") != strlen(s))
		return -1; /* no sign, no space: strtol would take them */
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > PROTO_MAX_WORKERS)
		return -1;
	*n = (int)v;
	return 0;
}

static int parse_args(const struct verb *v, const struct words *w, struct request *r,
		      char *err, size_t errlen)
{
	switch (v->kind) {
	case REQ_RELOAD:
	case REQ_ROLLBACK:
		if (w->n == 2 && strcmp(w->w[1], "wait") != 0)
			break;
		r->wait = w->n == 2;
		return 0;
	case REQ_SCALE:
		snprintf(r->program, sizeof(r->program), "%s", w->w[1]);
		if (parse_count(w->w[2], &r->number) == 0)
			return 0;
		snprintf(err, errlen, "scale: \"%s\" is not a number from 0 to %d", w->w[2],
			 PROTO_MAX_WORKERS);
		return -1;
	case REQ_SIGNAL:
		snprintf(r->program, sizeof(r->program), "%s", w->w[1]);
		if ((r->signal = parse_signal(w->w[2])) > 0)
			return 0;
		snprintf(err, errlen, "signal: unknown signal \"%s\"", w->w[2]);
		return -1;
	default:
		return 0;
	}
	snprintf(err, errlen, "usage: %s", v->usage);
	return -1;
}

int proto_parse(const char *line, size_t len, struct request *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	struct words w;
	if (split(line, len, &w, err, errlen) < 0)
		return -1;
	if (w.n == 0) {
		snprintf(err, errlen, "empty request");
		return -1;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const struct verb *v = &verbs[i];
		if (strcmp(w.w[0], v->name) != 0)
			continue;
		r->kind = v->kind;
		if (w.n - 1 < v->min_args || w.n - 1 > v->max_args) {
			snprintf(err, errlen, "usage: %s", v->usage);
			return -1;
		}
		return parse_args(v, &w, r, err, errlen);
	}
	snprintf(err, errlen, "unknown request \"%s\" (try status, health, reload, "
		 "rollback, scale, signal, upgrade, stop, metrics, events, version)", w.w[0]);
	return -1;
}
