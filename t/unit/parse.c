/* t/unit/parse.c: unit tests for durations, signals, modes and addresses. */
/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../../src/parse.h"
#include "../tap.h"

static void duration_good(const char *s, double want)
{
	double got = -1;

	if (is_int(0, parse_duration(s, &got), "duration \"%s\" parses", s))
		is_double(want, got, "duration \"%s\" is %g s", s, want);
}

static void duration_bad(const char *s)
{
	double got = 42;

	is_int(-1, parse_duration(s, &got), "duration \"%s\" is refused", s);
	is_double(42, got, "duration \"%s\" leaves the output alone", s);
}

static void duration_format(double seconds, const char *want)
{
	char buf[64];
	double back = -1;

	format_duration(seconds, buf, sizeof(buf));
	is_string(want, buf, "format_duration(%g)", seconds);
	if (is_int(0, parse_duration(buf, &back), "\"%s\" reads back", buf))
		is_double(seconds, back, "\"%s\" reads back as %g", buf, seconds);
}

static void test_durations(void)
{
	static const char *const bad[] = {
	    "",
	    "-1",
	    "-1s",
	    "+1s",
	    "1x",
	    "ms",
	    "s",
	    ".",
	    "1 s",
	    " 1s",
	    "1s ",
	    "1ss",
	    "1sm",
	    "inf",
	    "nan",
	    "infs",
	    "1e3",
	    "0x10",
	    "1,5s",
	    "1..5s",
	    "2000000000",
	    "9999999999999999999999h",
	    "100000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000",
	    "1H",
	    "1S",
	    "1MS",
	    "1d",
	    "1us",
	};
	size_t i;

	duration_good("250ms", 0.25);
	duration_good("30s", 30);
	duration_good("5m", 300);
	duration_good("1h", 3600);
	duration_good("2", 2);
	duration_good("0.5", 0.5);
	duration_good("0", 0);
	duration_good("0ms", 0);
	duration_good("1.5s", 1.5);
	duration_good(".5s", 0.5);
	duration_good("1.25m", 75);
	duration_good("100ms", 0.1);
	duration_good("1000000000", 1e9);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		duration_bad(bad[i]);
	ok(parse_duration(NULL, &(double){0}) == -1, "NULL duration");

	duration_format(0.25, "250ms");
	duration_format(30, "30s");
	duration_format(1.5, "1.5s");
	duration_format(300, "5m");
	duration_format(3600, "1h");
	duration_format(7200, "2h");
	duration_format(90, "90s");
	duration_format(0, "0s");
	duration_format(0.1, "100ms");
	duration_format(1234.567, "1234.567s");
	duration_format(60.25, "60.25s");
	duration_format(0.0005, "0.0005");
}

static void signal_good(const char *s, int want)
{
	is_int(want, parse_signal(s), "signal \"%s\" is %d", s, want);
}

static void test_signals(void)
{
	static const char *const names[] = {
	    "HUP",  "INT",    "QUIT", "ILL",   "TRAP", "ABRT", "BUS",  "FPE",
	    "KILL", "USR1",   "SEGV", "USR2",  "PIPE", "ALRM", "TERM", "STKFLT",
	    "CHLD", "CONT",   "STOP", "TSTP",  "TTIN", "TTOU", "URG",  "XCPU",
	    "XFSZ", "VTALRM", "PROF", "WINCH", "IO",   "PWR",  "SYS",
	};
	static const char *const bad[] = {
	    "",	     "SIG", "0",   "65",  "-1",	 "-15",	 "TERMX", "SIGSIGTERM", " TERM",
	    "TERM ", "15x", "1e1", "100", "+15", "SIG0", "IOX",	  "RTMIN",
	};
	char buf[16];
	size_t i;
	int sig;

	signal_good("TERM", SIGTERM);
	signal_good("SIGTERM", SIGTERM);
	signal_good("term", SIGTERM);
	signal_good("sigterm", SIGTERM);
	signal_good("SigTerm", SIGTERM);
	signal_good("15", SIGTERM);
	signal_good("SIG15", SIGTERM);
	signal_good("9", SIGKILL);
	signal_good("1", 1);
	signal_good("64", 64);
	signal_good("SIG42", 42);
	signal_good("HUP", SIGHUP);
	signal_good("USR1", SIGUSR1);
	signal_good("USR2", SIGUSR2);
	signal_good("WINCH", SIGWINCH);
	signal_good("QUIT", SIGQUIT);
	signal_good("IOT", SIGABRT);
	signal_good("POLL", SIGIO);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(-1, parse_signal(bad[i]), "signal \"%s\" is refused", bad[i]);
	is_int(-1, parse_signal(NULL), "NULL signal is refused");

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sig = parse_signal(names[i]);
		ok(sig > 0, "signal %s is known", names[i]);
		is_string(names[i], signal_name(sig), "signal_name(%d)", sig);
		snprintf(buf, sizeof(buf), "SIG%s", names[i]);
		is_int(sig, parse_signal(buf), "%s is %s", buf, names[i]);
	}
	for (sig = 1; sig <= 64; sig++)
		is_int(sig, parse_signal(signal_name(sig)), "signal_name(%d) = \"%s\" reads back",
		       sig, signal_name(sig));
	is_string("SIG42", signal_name(42), "unnamed signal 42");
	snprintf(buf, sizeof(buf), "%s/%s", signal_name(40), signal_name(41));
	is_string("SIG40/SIG41", buf, "two unnamed names in one printf");
	ok(signal_name(0) != NULL && signal_name(-3) != NULL && signal_name(1000) != NULL,
	   "signal_name never returns NULL");
}

static void test_modes(void)
{
	static const char *const bad[] = {
	    "", "8", "0668", "10000", "17777", "-1", "0x1ff", "rw", " 660", "660 ", "0o660",
	};
	mode_t m = 0;
	size_t i;

	ok(parse_mode("0660", &m) == 0 && m == 0660, "mode 0660");
	ok(parse_mode("660", &m) == 0 && m == 0660, "mode 660");
	ok(parse_mode("0600", &m) == 0 && m == 0600, "mode 0600");
	ok(parse_mode("0", &m) == 0 && m == 0, "mode 0");
	ok(parse_mode("7777", &m) == 0 && m == 07777, "mode 7777");
	ok(parse_mode("07777", &m) == 0 && m == 07777, "mode 07777");
	ok(parse_mode("000644", &m) == 0 && m == 0644, "mode 000644");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = 0123;
		ok(parse_mode(bad[i], &m) == -1 && m == 0123, "mode \"%s\" is refused", bad[i]);
	}
	ok(parse_mode(NULL, &m) == -1, "NULL mode is refused");
}

static void address_good(const char *s, enum address_kind kind, const char *canonical)
{
	struct address a;
	char err[128] = "", buf[300];

	if (!is_int(0, parse_address(s, &a, err, sizeof(err)), "address \"%s\" parses", s))
		diag("error: %s", err);
	is_int(kind, a.kind, "address \"%s\" kind", s);
	format_address(&a, buf, sizeof(buf));
	is_string(canonical, buf, "address \"%s\" formats", s);
}

static void address_bad(const char *s, const char *why)
{
	struct address a;
	char err[128] = "";

	is_int(-1, parse_address(s, &a, err, sizeof(err)), "address \"%s\" is refused", s);
	is_string(why, err, "address \"%s\": reason", s);
}

static void test_address_values(void)
{
	struct address a;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.sa;

	parse_address("127.0.0.1:8080", &a, NULL, 0);
	is_int(AF_INET, a.sa.ss_family, "v4 family");
	is_int(8080, ntohs(sin->sin_port), "v4 port");
	is_int(htonl(INADDR_LOOPBACK), sin->sin_addr.s_addr, "v4 address");
	is_int(sizeof(*sin), a.salen, "v4 salen");

	parse_address(":9000", &a, NULL, 0);
	is_int(AF_INET6, a.sa.ss_family, ":PORT is AF_INET6");
	is_int(9000, ntohs(sin6->sin6_port), ":PORT port");
	ok(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr), ":PORT is [::]");
	is_int(sizeof(*sin6), a.salen, "v6 salen");

	parse_address("[::1]:80", &a, NULL, 0);
	ok(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), "[::1] is loopback");

	parse_address("unix:/run/app.sock", &a, NULL, 0);
	is_string("/run/app.sock", a.path, "unix path");
	parse_address("systemd:web", &a, NULL, 0);
	is_string("web", a.name, "systemd name");
}

static void test_address_errors(void)
{
	char big[300];

	address_bad("", "empty address");
	address_bad("8080", "missing port (HOST:PORT)");
	address_bad("127.0.0.1", "missing port (HOST:PORT)");
	address_bad("127.0.0.1:", "missing port");
	address_bad("127.0.0.1:65536", "port out of range");
	address_bad("127.0.0.1:123456", "port out of range");
	address_bad("127.0.0.1:-1", "port is not a number");
	address_bad("127.0.0.1:http", "port is not a number");
	address_bad("127.0.0.1:80 ", "port is not a number");
	address_bad("example.com:80", "host is not a numeric IPv4 address");
	address_bad("256.0.0.1:80", "host is not a numeric IPv4 address");
	address_bad("127.1:80", "host is not a numeric IPv4 address");
	address_bad("::1:80", "IPv6 addresses go in brackets: [ADDR]:PORT");
	address_bad("[::1]", "missing port");
	address_bad("[::1]:", "missing port");
	address_bad("[::1:80", "missing \"]\"");
	address_bad("[nope]:80", "host is not a numeric IPv6 address");
	address_bad("[127.0.0.1]:80", "host is not a numeric IPv6 address");
	address_bad("unix:", "empty unix socket path");
	address_bad("systemd:", "empty systemd socket name");
	address_bad("systemd:a:b", "systemd socket name may hold only letters, digits, "
				   "\"_\", \".\" and \"-\"");
	address_bad("systemd:a b", "systemd socket name may hold only letters, digits, "
				   "\"_\", \".\" and \"-\"");
	memset(big, 'a', sizeof(big));
	memcpy(big, "unix:/", 6);
	big[5 + 108] = '\0';
	address_bad(big, "unix socket path too long (at most 107 bytes)");
	big[5 + 107] = '\0';
	address_good(big, ADDR_UNIX, big);
	memcpy(big, "systemd:", 8);
	memset(big + 8, 'n', sizeof(big) - 8);
	big[8 + 256] = '\0';
	address_bad(big, "systemd socket name too long");
	big[8 + 255] = '\0';
	address_good(big, ADDR_SYSTEMD, big);
	ok(parse_address(NULL, &(struct address){0}, NULL, 0) == -1, "NULL address, NULL err");
}

static bool same(const char *a, const char *b)
{
	struct address x, y;

	if (parse_address(a, &x, NULL, 0) < 0 || parse_address(b, &y, NULL, 0) < 0)
		return false;
	return address_equal(&x, &y);
}

static void test_addresses(void)
{
	address_good("127.0.0.1:8080", ADDR_TCP, "127.0.0.1:8080");
	address_good("0.0.0.0:80", ADDR_TCP, "0.0.0.0:80");
	address_good("localhost:8080", ADDR_TCP, "127.0.0.1:8080");
	address_good("[::1]:8080", ADDR_TCP, "[::1]:8080");
	address_good("[::]:8080", ADDR_TCP, "[::]:8080");
	address_good("[2001:DB8::0001]:443", ADDR_TCP, "[2001:db8::1]:443");
	address_good(":8080", ADDR_TCP_ANY, ":8080");
	address_good("*:8080", ADDR_TCP_ANY, ":8080");
	address_good("127.0.0.1:0", ADDR_TCP, "127.0.0.1:0");
	address_good("127.0.0.1:65535", ADDR_TCP, "127.0.0.1:65535");
	address_good("127.0.0.1:080", ADDR_TCP, "127.0.0.1:80");
	address_good("unix:/run/app.sock", ADDR_UNIX, "unix:/run/app.sock");
	address_good("unix:app.sock", ADDR_UNIX, "unix:app.sock");
	address_good("systemd:web", ADDR_SYSTEMD, "systemd:web");
	address_good("systemd:web-1.v2_x", ADDR_SYSTEMD, "systemd:web-1.v2_x");
	test_address_values();
	test_address_errors();

	ok(same("127.0.0.1:80", "localhost:80"), "localhost == 127.0.0.1");
	ok(same(":80", "*:80"), ":80 == *:80");
	ok(same("[::1]:80", "[0:0::1]:80"), "v6 spellings are equal");
	ok(same("unix:/a", "unix:/a"), "same unix path");
	ok(same("systemd:a", "systemd:a"), "same systemd name");
	ok(!same("127.0.0.1:80", "127.0.0.1:81"), "ports differ");
	ok(!same("127.0.0.1:80", "127.0.0.2:80"), "hosts differ");
	ok(!same(":80", "[::]:80"), ":80 (any) differs from [::]:80");
	ok(!same("0.0.0.0:80", ":80"), "0.0.0.0:80 differs from :80");
	ok(!same("unix:/a", "unix:/b"), "unix paths differ");
	ok(!same("unix:web", "systemd:web"), "unix differs from systemd");
	ok(!same("systemd:a", "systemd:b"), "systemd names differ");
}

int main(void)
{
	plan_lazy();
	test_durations();
	test_signals();
	test_modes();
	test_addresses();
	return tap_done();
}
