/* proto.h: the control protocol's request lines, parsed without I/O. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_PROTO_H
#define SEGUE_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_MAX_LINE 4096
#define PROTO_MAX_NAME 128

enum request_kind {
	REQ_STATUS, REQ_HEALTH, REQ_RELOAD, REQ_ROLLBACK, REQ_SCALE, REQ_SIGNAL,
	REQ_UPGRADE, REQ_STOP, REQ_METRICS, REQ_EVENTS, REQ_VERSION,
};

struct request {
	enum request_kind kind;
	bool wait;                     /* reload wait, rollback wait */
	char program[PROTO_MAX_NAME];  /* scale, signal */
	int number;                    /* scale: workers */
	int signal;                    /* signal */
};

/* Parses one request line (without its newline; a trailing '\r' is
 * allowed). Returns 0, or -1 with a message for the client in err. */
int proto_parse(const char *line, size_t len, struct request *req, char *err, size_t errlen);

/* Most workers `scale` accepts. */
#define PROTO_MAX_WORKERS 10000

#endif
