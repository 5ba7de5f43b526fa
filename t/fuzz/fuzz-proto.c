/* fuzz-proto.c: libFuzzer harness for proto_parse(), the request-line parser. */
/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the canonical line for a parsed request, to parse it again. */
static void format(const struct request *r, char *buf, size_t len)
{
	switch (r->kind) {
	case REQ_SCALE:
		snprintf(buf, len, "scale %s %d", r->program, r->number);
		break;
	case REQ_SIGNAL:
		snprintf(buf, len, "signal %s %d", r->program, r->signal);
		break;
	default:
		snprintf(buf, len, "%s%s", proto_verb_of(r->kind)->name, r->wait ? " wait" : "");
		break;
	}
}

/* What a successful parse promises. */
static void check(const struct request *r)
{
	const struct proto_verb *v = proto_verb_of(r->kind);

	if ((unsigned)r->kind > REQ_VERSION || v == NULL || v->kind != r->kind)
		abort();
	if (!memchr(r->program, '\0', sizeof(r->program)))
		abort();
	if (r->wait && r->kind != REQ_RELOAD && r->kind != REQ_ROLLBACK)
		abort();
	if (r->wait && !(v->flags & VERB_WAIT))
		abort();
	if (r->kind == REQ_SCALE && (r->number < 0 || r->number > PROTO_MAX_WORKERS))
		abort();
	if (r->kind == REQ_SIGNAL && (r->signal < 1 || r->signal > 64))
		abort();
	if ((r->kind == REQ_SCALE || r->kind == REQ_SIGNAL) && r->program[0] == '\0')
		abort();
	for (const char *p = r->program; *p; p++)
		if (*p <= ' ' || *p > '~')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past the end is an ASan report. */
	char *line = malloc(size ? size : 1);
	char *small = malloc(8);
	struct request r, again;
	char err[256], canon[PROTO_MAX_NAME + 64];

	if (line == NULL || small == NULL)
		abort();
	memcpy(line, data, size);
	err[0] = '\0';
	int rc = proto_parse(line, size, &r, err, sizeof(err));

	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (err[0] == '\0' || !memchr(err, '\0', sizeof(err))))
		abort();
	if (rc == 0) {
		check(&r);
		/* The canonical form parses to the same request. */
		format(&r, canon, sizeof(canon));
		if (proto_parse(canon, strlen(canon), &again, err, sizeof(err)) != 0)
			abort();
		if (again.kind != r.kind || again.wait != r.wait || again.number != r.number ||
		    again.signal != r.signal || strcmp(again.program, r.program) != 0)
			abort();
	}
	/* A small error buffer, and none: same answer, no overflow. */
	if (proto_parse(line, size, &again, small, 8) != rc)
		abort();
	if (proto_parse(line, size, &again, NULL, 0) != rc)
		abort();
	free(small);
	free(line);
	return 0;
}
