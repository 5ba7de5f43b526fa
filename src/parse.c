/* parse.c: pure parsers for durations, signal names, addresses and modes. */
/* SPDX-License-Identifier: MIT */
#include "parse.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest duration accepted, in seconds (about 31 years): far beyond any
 * sensible timeout, and safe to convert to milliseconds in an int64_t. */
#define DURATION_MAX 1e9

/* Highest signal number accepted (SIGRTMAX on Linux). */
#define SIGNAL_MAX 64

static const struct {
	const char *suffix;
	double scale;
} duration_units[] = {
    {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"", 1},
};

/* Reads the digits-and-dot number at the start of s; returns its length,
 * or 0 if there is none. Signs, exponents, "inf" and "nan" are refused. */
static size_t number_span(const char *s)
{
	size_t n = strspn(s, "0123456789");
	size_t frac = 0;

	if (s[n] == '.') {
		frac = strspn(s + n + 1, "0123456789");
		if (n == 0 && frac == 0)
			return 0;
		return n + 1 + frac;
	}
	return n;
}

int parse_duration(const char *s, double *seconds)
{
	size_t n, i;
	char num[64];
	double v;

	if (s == NULL || (n = number_span(s)) == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	v = strtod(num, NULL);
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(s + n, duration_units[i].suffix) != 0)
			continue;
		v *= duration_units[i].scale;
		if (!isfinite(v) || v > DURATION_MAX)
			return -1;
		*seconds = v;
		return 0;
	}
	return -1;
}

/* Milliseconds above one second as "1.5s", "1234.567s". */
static void format_fraction(long long ms, char *buf, size_t len)
{
	char frac[8];
	size_t n;

	snprintf(frac, sizeof(frac), "%03lld", ms % 1000);
	for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(buf, len, "%lld.%ss", ms / 1000, frac);
}

void format_duration(double seconds, char *buf, size_t len)
{
	double ms = seconds * 1000;
	long long whole;

	if (!isfinite(seconds) || seconds < 0 || ms > 1e15 ||
	    fabs(ms - (double)(long long)(ms + 0.5)) > 1e-6) {
		snprintf(buf, len, "%.9g", seconds);
		return;
	}
	whole = (long long)(ms + 0.5); /* ms >= 0: rounds without libm */
	if (whole == 0)
		snprintf(buf, len, "0s");
	else if (whole % 3600000 == 0)
		snprintf(buf, len, "%lldh", whole / 3600000);
	else if (whole % 60000 == 0)
		snprintf(buf, len, "%lldm", whole / 60000);
	else if (whole % 1000 == 0)
		snprintf(buf, len, "%llds", whole / 1000);
	else if (whole < 1000)
		snprintf(buf, len, "%lldms", whole);
	else
		format_fraction(whole, buf, len);
}

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},
    /* Aliases, read but never written. */
    {"IOT", SIGABRT},
    {"POLL", SIGIO},
    {"CLD", SIGCHLD},
};

#define NSIGNAL_NAMES (sizeof(signal_names) / sizeof(signal_names[0]))

static int parse_signal_number(const char *s)
{
	int n = 0;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 2)
		return -1;
	n = atoi(s);
	return n >= 1 && n <= SIGNAL_MAX ? n : -1;
}

int parse_signal(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (*s >= '0' && *s <= '9')
		return parse_signal_number(s);
	for (i = 0; i < NSIGNAL_NAMES; i++)
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].sig;
	return -1;
}

const char *signal_name(int sig)
{
	/* One buffer per number, so that several calls may share one printf. */
	static char unnamed[SIGNAL_MAX + 1][8];
	size_t i;

	for (i = 0; i < NSIGNAL_NAMES; i++)
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	if (sig < 0 || sig > SIGNAL_MAX)
		return "SIG?";
	snprintf(unnamed[sig], sizeof(unnamed[sig]), "SIG%d", sig);
	return unnamed[sig];
}

int parse_mode(const char *s, mode_t *mode)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0' || strspn(s, "01234567") != strlen(s))
		return -1;
	for (; *s != '\0'; s++) {
		v = v * 8 + (unsigned long)(*s - '0');
		if (v > 07777)
			return -1;
	}
	*mode = (mode_t)v;
	return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static int parse_unix(const char *path, struct address *addr, char *err, size_t errlen)
{
	if (*path == '\0')
		return fail(err, errlen, "empty unix socket path");
	if (strlen(path) >= sizeof(addr->path)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "unix socket path too long (at most %zu bytes)",
				 sizeof(addr->path) - 1);
		return -1;
	}
	addr->kind = ADDR_UNIX;
	strcpy(addr->path, path);
	return 0;
}

static int parse_systemd(const char *name, struct address *addr, char *err, size_t errlen)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789_.-";

	if (*name == '\0')
		return fail(err, errlen, "empty systemd socket name");
	if (strlen(name) >= sizeof(addr->name))
		return fail(err, errlen, "systemd socket name too long");
	if (strspn(name, allowed) != strlen(name))
		return fail(err, errlen,
			    "systemd socket name may hold only letters, digits, "
			    "\"_\", \".\" and \"-\"");
	addr->kind = ADDR_SYSTEMD;
	strcpy(addr->name, name);
	return 0;
}

static int parse_port(const char *s, in_port_t *port, char *err, size_t errlen)
{
	size_t n = strspn(s, "0123456789");
	unsigned long v;

	if (*s == '\0')
		return fail(err, errlen, "missing port");
	if (n != strlen(s))
		return fail(err, errlen, "port is not a number");
	if (n > 5 || (v = strtoul(s, NULL, 10)) > 65535)
		return fail(err, errlen, "port out of range");
	*port = htons((in_port_t)v);
	return 0;
}

static void set_inet6(struct address *addr, const struct in6_addr *a, in_port_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->sa;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	sin6->sin6_addr = *a;
	addr->salen = sizeof(*sin6);
}

static int set_inet(struct address *addr, const char *host, in_port_t port, char *err,
		    size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->sa;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return fail(err, errlen,
			    strchr(host, ':') != NULL ? "IPv6 addresses go in brackets: [ADDR]:PORT"
						      : "host is not a numeric IPv4 address");
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	addr->salen = sizeof(*sin);
	return 0;
}

/* "[V6]:PORT": s points at '['. */
static int parse_bracketed(const char *s, struct address *addr, char *err, size_t errlen)
{
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a;
	in_port_t port;
	size_t n;

	if (close == NULL)
		return fail(err, errlen, "missing \"]\"");
	if (close[1] != ':')
		return fail(err, errlen, "missing port");
	n = (size_t)(close - s - 1);
	if (n >= sizeof(host))
		return fail(err, errlen, "host is not a numeric IPv6 address");
	memcpy(host, s + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &a) != 1)
		return fail(err, errlen, "host is not a numeric IPv6 address");
	if (parse_port(close + 2, &port, err, errlen) < 0)
		return -1;
	addr->kind = ADDR_TCP;
	set_inet6(addr, &a, port);
	return 0;
}

static int parse_tcp(const char *s, struct address *addr, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	in_port_t port;
	size_t n;

	if (*s == '[')
		return parse_bracketed(s, addr, err, errlen);
	if (colon == NULL)
		return fail(err, errlen, "missing port (HOST:PORT)");
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return fail(err, errlen, "host is not a numeric IPv4 address");
	memcpy(host, s, n);
	host[n] = '\0';
	if (parse_port(colon + 1, &port, err, errlen) < 0)
		return -1;
	if (n == 0 || strcmp(host, "*") == 0) {
		addr->kind = ADDR_TCP_ANY;
		set_inet6(addr, &in6addr_any, port);
		return 0;
	}
	addr->kind = ADDR_TCP;
	return set_inet(addr, host, port, err, errlen);
}

int parse_address(const char *s, struct address *addr, char *err, size_t errlen)
{
	memset(addr, 0, sizeof(*addr));
	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty address");
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(s + 5, addr, err, errlen);
	if (strncmp(s, "systemd:", 8) == 0)
		return parse_systemd(s + 8, addr, err, errlen);
	return parse_tcp(s, addr, err, errlen);
}

static void format_tcp(const struct address *addr, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&addr->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&addr->sa;
	char host[INET6_ADDRSTRLEN];

	if (addr->sa.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (addr->kind == ADDR_TCP_ANY) {
		snprintf(buf, len, ":%u", ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
}

void format_address(const struct address *addr, char *buf, size_t len)
{
	switch (addr->kind) {
	case ADDR_UNIX:
		snprintf(buf, len, "unix:%s", addr->path);
		break;
	case ADDR_SYSTEMD:
		snprintf(buf, len, "systemd:%s", addr->name);
		break;
	case ADDR_TCP:
	case ADDR_TCP_ANY:
	default:
		format_tcp(addr, buf, len);
		break;
	}
}

static bool inet_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port && a6->sin6_scope_id == b6->sin6_scope_id &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
	return false;
}

bool address_equal(const struct address *a, const struct address *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case ADDR_UNIX:
		return strcmp(a->path, b->path) == 0;
	case ADDR_SYSTEMD:
		return strcmp(a->name, b->name) == 0;
	case ADDR_TCP:
	case ADDR_TCP_ANY:
	default:
		return inet_equal(&a->sa, &b->sa);
	}
}
