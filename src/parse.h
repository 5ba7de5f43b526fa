/* parse.h: pure parsers for durations, signal names, addresses and modes. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_PARSE_H
#define SEGUE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* "250ms", "30s", "5m", "1h", or a bare number of seconds ("2", "0.5").
 * Stores seconds; returns 0, or -1 for anything else (negative, empty,
 * trailing garbage, overflow). */
int parse_duration(const char *s, double *seconds);

/* Formats seconds the way parse_duration reads them back ("250ms", "30s"). */
void format_duration(double seconds, char *buf, size_t len);

/* "TERM", "SIGTERM", "term" or "15". Returns the number, or -1. */
int parse_signal(const char *s);

/* "TERM" for SIGTERM; "SIG42" for unnamed numbers. Never NULL. */
const char *signal_name(int sig);

/* Octal permission bits, "0660" or "660". Returns 0, or -1. */
int parse_mode(const char *s, mode_t *mode);

enum address_kind {
	ADDR_TCP,     /* a numeric IPv4 or IPv6 address and port */
	ADDR_TCP_ANY, /* ":PORT": every address, dual-stack */
	ADDR_UNIX,    /* "unix:/path" */
	ADDR_SYSTEMD, /* "systemd:NAME" */
};

struct address {
	enum address_kind kind;
	struct sockaddr_storage sa; /* ADDR_TCP and ADDR_TCP_ANY (as [::]) */
	socklen_t salen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* ADDR_UNIX */
	char name[256];						/* ADDR_SYSTEMD */
};

/* Parses HOST:PORT ("127.0.0.1:80", "localhost:80", "*:80"), [V6]:PORT,
 * :PORT, unix:/path and systemd:NAME. On error returns -1 and writes a
 * message without the input ("port out of range") to err. */
int parse_address(const char *s, struct address *addr, char *err, size_t errlen);

/* Writes a canonical form of addr ("127.0.0.1:8080", "[::1]:80") to buf. */
void format_address(const struct address *addr, char *buf, size_t len);

/* Two addresses name the same socket (same kind, bytes and path). */
bool address_equal(const struct address *a, const struct address *b);

#endif
