/* proto.c: the control protocol's verbs and request lines, parsed without I/O. */
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
			snprintf(err, errlen,
				 "request holds a byte that is not printable ASCII (0x%02x)", c);
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

/* In the order seguectl's help lists them. */
const struct proto_verb proto_verbs[] = {
    {"status", REQ_STATUS, 0, 0, "", "workers, generations and sockets"},
    {"health", REQ_HEALTH, 0, 0, "", "exit 0 when healthy, else 1 with the problems"},
    {"reload", REQ_RELOAD, 0, VERB_WAIT, "", "start a new generation; --wait: until it ended"},
    {"rollback", REQ_ROLLBACK, 0, VERB_WAIT, "", "start the release that served before again"},
    {"scale", REQ_SCALE, 2, 0, "PROGRAM N", "set a program's number of workers"},
    {"signal", REQ_SIGNAL, 2, 0, "PROGRAM SIG", "send SIG to the current generation's workers"},
    {"stop", REQ_STOP, 0, 0, "", "stop segue gracefully"},
    {"metrics", REQ_METRICS, 0, VERB_STREAM, "", "Prometheus metrics"},
    {"events", REQ_EVENTS, 0, VERB_STREAM, "", "follow events, one JSON object a line"},
    {"version", REQ_VERSION, 0, 0, "", "segue's and seguectl's versions"},
    {"upgrade", REQ_UPGRADE, 0, VERB_WAIT, "", "re-execute segue in place; answers when it ran"},
};

const size_t proto_nverbs = sizeof(proto_verbs) / sizeof(proto_verbs[0]);

const struct proto_verb *proto_verb_named(const char *name)
{
	for (size_t i = 0; i < proto_nverbs; i++)
		if (strcmp(name, proto_verbs[i].name) == 0)
			return &proto_verbs[i];
	return NULL;
}

const struct proto_verb *proto_verb_of(enum request_kind kind)
{
	for (size_t i = 0; i < proto_nverbs; i++)
		if (proto_verbs[i].kind == kind)
			return &proto_verbs[i];
	return NULL;
}

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

static int usage(const struct proto_verb *v, char *err, size_t errlen)
{
	snprintf(err, errlen, "usage: %s%s%s%s", v->name, *v->args ? " " : "", v->args,
		 v->kind == REQ_RELOAD	? " [wait|watch]"
		 : v->flags & VERB_WAIT ? " [wait]"
					: "");
	return -1;
}

/* The words after the verb: its nargs arguments, then "wait" if it takes one. */
static int parse_args(const struct proto_verb *v, const struct words *w, struct request *r,
		      char *err, size_t errlen)
{
	int extra = w->n - 1 - v->nargs;

	const char *last = w->w[w->n - 1];
	if (extra == 1 && (v->flags & VERB_WAIT) && strcmp(last, "wait") == 0)
		r->wait = true;
	else if (extra == 1 && v->kind == REQ_RELOAD && strcmp(last, "watch") == 0)
		r->wait = r->watch = true;
	else if (extra != 0)
		return usage(v, err, errlen);
	switch (v->kind) {
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
}

/* "status, health, ...": every verb, for the unknown-request message. */
static void verb_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < proto_nverbs && used < len; i++) {
		const char *sep = i ? ", " : "";
		int n = snprintf(buf + used, len - used, "%s%s", sep, proto_verbs[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
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
	const struct proto_verb *v = proto_verb_named(w.w[0]);
	if (v) {
		r->kind = v->kind;
		return parse_args(v, &w, r, err, errlen);
	}
	char verbs[256];
	verb_list(verbs, sizeof(verbs));
	snprintf(err, errlen, "unknown request \"%s\" (try %s)", w.w[0], verbs);
	return -1;
}
