/* proto.h: the control protocol's verbs and request lines, parsed without I/O. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_PROTO_H
#define SEGUE_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_MAX_LINE 4096
#define PROTO_MAX_NAME 128

enum request_kind {
	REQ_STATUS,
	REQ_HEALTH,
	REQ_RELOAD,
	REQ_ROLLBACK,
	REQ_SCALE,
	REQ_SIGNAL,
	REQ_UPGRADE,
	REQ_STOP,
	REQ_METRICS,
	REQ_EVENTS,
	REQ_VERSION,
};

/* What a verb takes and how it is answered. */
enum proto_verb_flags {
	VERB_WAIT = 1,	 /* takes an optional last word "wait": answer when it has ended */
	VERB_STREAM = 2, /* the answer is lines until segue closes (or, for events, for ever) */
};

/* One verb of the protocol. proto_verbs is the only list of them: the
 * parser below and seguectl's commands, usage and help all read it. */
struct proto_verb {
	const char *name;
	enum request_kind kind;
	int nargs;	     /* words that must follow the verb */
	unsigned flags;	     /* enum proto_verb_flags */
	const char *args;    /* their names, for usage texts: "PROGRAM N", or "" */
	const char *summary; /* what it does, one line for seguectl --help */
};

extern const struct proto_verb proto_verbs[];
extern const size_t proto_nverbs;

/* The verb spelt name (exactly, lower case), or NULL. */
const struct proto_verb *proto_verb_named(const char *name);

/* The verb of a request kind; never NULL for a kind proto_parse returns. */
const struct proto_verb *proto_verb_of(enum request_kind kind);

struct request {
	enum request_kind kind;
	bool wait;		      /* reload wait, rollback wait */
	bool watch;		      /* reload watch: wait through the watch window */
	char program[PROTO_MAX_NAME]; /* scale, signal */
	int number;		      /* scale: workers */
	int signal;		      /* signal */
};

/* Parses one request line (without its newline; a trailing '\r' is
 * allowed). Returns 0, or -1 with a message for the client in err. */
int proto_parse(const char *line, size_t len, struct request *req, char *err, size_t errlen);

/* Most workers `scale` accepts. */
#define PROTO_MAX_WORKERS 10000

#endif
