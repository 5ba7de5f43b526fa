/* t/unit/notify.c: unit tests for the sd_notify parser and its socket. */
/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../src/notify.h"
#include "../tap.h"

/* --- the parser ---------------------------------------------------------- */

/* Parses len bytes from an exact-size heap copy, so that ASan sees any read
 * past the end. */
static int parse(const char *buf, size_t len, struct notify_msg *m)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	rc = notify_parse(copy, len, m);
	free(copy);
	return rc;
}

/* The flags of a message as a short string: "R" ready, "S" stopping,
 * "L" reloading, "W" watchdog, "T" has a status; "-" for none. */
static const char *flags(const struct notify_msg *m)
{
	static char buf[8];
	char *p = buf;

	if (m->ready)
		*p++ = 'R';
	if (m->stopping)
		*p++ = 'S';
	if (m->reloading)
		*p++ = 'L';
	if (m->watchdog)
		*p++ = 'W';
	if (m->has_status)
		*p++ = 'T';
	if (p == buf)
		*p++ = '-';
	*p = '\0';
	return buf;
}

/* A datagram that parses to the given flags (and status, when want_status
 * is not NULL). */
static void good_n(const char *what, const char *buf, size_t len, const char *want_flags,
		   const char *want_status)
{
	struct notify_msg m;

	memset(&m, 0x55, sizeof(m));
	if (!is_int(0, parse(buf, len, &m), "%s: parses", what))
		return;
	is_string(want_flags, flags(&m), "%s: flags %s", what, want_flags);
	if (want_status)
		is_string(want_status, m.status, "%s: status", what);
	else
		is_string("", m.status, "%s: no status", what);
}

static void good(const char *what, const char *buf, const char *want_flags, const char *want_status)
{
	good_n(what, buf, strlen(buf), want_flags, want_status);
}

static void bad_n(const char *what, const char *buf, size_t len)
{
	struct notify_msg m;

	is_int(-1, parse(buf, len, &m), "%s: refused", what);
}

static void bad(const char *what, const char *buf)
{
	bad_n(what, buf, strlen(buf));
}

static void test_keys(void)
{
	good("READY=1", "READY=1", "R", NULL);
	good("READY=1 with newline", "READY=1\n", "R", NULL);
	good("STOPPING=1", "STOPPING=1", "S", NULL);
	good("RELOADING=1", "RELOADING=1\n", "L", NULL);
	good("WATCHDOG=1", "WATCHDOG=1", "W", NULL);
	good("STATUS", "STATUS=Serving 12 requests", "T", "Serving 12 requests");
	good("STATUS with newline", "STATUS=up\n", "T", "up");
	good("empty STATUS", "STATUS=", "T", "");
	good("STATUS with '='", "STATUS=a=b=c", "T", "a=b=c");
	good("all keys", "READY=1\nSTOPPING=1\nRELOADING=1\nWATCHDOG=1\nSTATUS=x\n", "RSLWT", "x");
	good("keys in any order", "STATUS=x\nWATCHDOG=1\nREADY=1", "RWT", "x");
	good("repeated key", "READY=1\nREADY=1\n", "R", NULL);
	good("last STATUS wins", "STATUS=first and longer\nSTATUS=second", "T", "second");

	/* Only the value 1 counts, and only exactly. */
	good("READY=0", "READY=0", "-", NULL);
	good("READY=10", "READY=10", "-", NULL);
	good("READY=", "READY=", "-", NULL);
	good("READY=1 with a blank", "READY=1 ", "-", NULL);
	good("READY =1", "READY =1", "-", NULL);
	good("STOPPING=yes", "STOPPING=yes", "-", NULL);
	good("WATCHDOG=trigger", "WATCHDOG=trigger", "-", NULL);
	good("lower case", "ready=1\nstatus=x", "-", NULL);
	good("STATUSX=", "STATUSX=1", "-", NULL);
	good(" STATUS=", " STATUS=x", "-", NULL);
	/* No CR stripping, as in systemd: "READY=1\r" is another value. */
	good("CRLF", "READY=1\r\n", "-", NULL);

	/* Unknown keys are ignored, known ones around them still count. */
	good("MAINPID", "MAINPID=1234", "-", NULL);
	good("unknown keys", "MAINPID=1\nERRNO=2\nREADY=1\nX_SEGUE=3\nFDSTORE=1", "R", NULL);
	good("empty key", "=", "-", NULL);
	good("empty key, value", "=1\nREADY=1", "R", NULL);
	good("EXTEND_TIMEOUT_USEC", "EXTEND_TIMEOUT_USEC=5000000", "-", NULL);
}

static void test_lines(void)
{
	good("blank lines", "\n\nREADY=1\n\n\nSTATUS=s\n\n", "RT", "s");
	good("only a newline", "\n", "-", NULL);
	good("only newlines", "\n\n\n", "-", NULL);

	bad("empty datagram", "");
	bad("line without '='", "READY");
	bad("word", "hello");
	bad("blank", " ");
	bad("second line without '='", "READY=1\nREADY");
	bad("first line without '='", "READY\nREADY=1");
	bad("CR only", "\r");
	bad("CR line", "READY=1\n\r\n");
	bad_n("NUL alone", "\0", 1);
	bad_n("NUL after", "READY=1\0", 8);
	bad_n("NUL before", "\0READY=1", 8);
	bad_n("NUL in a status", "STATUS=a\0b", 10);
	bad_n("NUL on a later line", "READY=1\nSTATUS=x\n\0", 18);

	/* The length given is all that is read. */
	good_n("len stops before the newline", "READY=1\nSTOPPING", 7, "R", NULL);
	good_n("len cuts a value", "READY=1\nSTOPPING=1", 17, "R", NULL);
	bad_n("len cuts a line before '='", "READY=1\nSTOP=1", 12);
	good_n("len cuts a status", "STATUS=abcdef", 10, "T", "abc");
}

static void test_status(void)
{
	char buf[NOTIFY_MAX_DATAGRAM + 16], want[NOTIFY_STATUS_MAX + 16];
	struct notify_msg m;

	/* Up to NOTIFY_STATUS_MAX - 1 characters, then truncated. */
	static const size_t sizes[] = {1, 254, 255, 256, 257, 1000, NOTIFY_MAX_DATAGRAM - 7};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		size_t kept = n < NOTIFY_STATUS_MAX - 1 ? n : NOTIFY_STATUS_MAX - 1;

		memcpy(buf, "STATUS=", 7);
		for (size_t j = 0; j < n; j++)
			buf[7 + j] = (char)('a' + j % 26);
		memcpy(want, buf + 7, kept);
		want[kept] = '\0';
		if (is_int(0, parse(buf, 7 + n, &m), "status of %zu bytes parses", n)) {
			is_int((long long)kept, (long long)strlen(m.status),
			       "status of %zu bytes keeps %zu", n, kept);
			is_string(want, m.status, "status of %zu bytes: its first bytes", n);
		}
	}
	/* A long status followed by another key: both read. */
	memcpy(buf, "STATUS=", 7);
	memset(buf + 7, 's', 1000);
	memcpy(buf + 1007, "\nREADY=1", 9);
	if (is_int(0, parse(buf, strlen(buf), &m), "long status, then READY=1")) {
		ok(m.ready, "long status, then READY=1: ready");
		is_int(NOTIFY_STATUS_MAX - 1, (long long)strlen(m.status),
		       "long status, then READY=1: truncated");
	}

	/* Control bytes become '?', valid UTF-8 stays, invalid bytes become
	 * U+FFFD. */
	good("tab", "STATUS=a\tb", "T", "a?b");
	good("CR", "STATUS=a\r", "T", "a?");
	good("escape", "STATUS=\x1b[31mred\x1b[0m", "T", "?[31mred?[0m");
	good("DEL", "STATUS=x\x7f", "T", "x?");
	good("bell and backspace", "STATUS=\a\b", "T", "??");
	good("UTF-8", "STATUS=d\xc3\xa9j\xc3\xa0 vu", "T", "d\xc3\xa9j\xc3\xa0 vu");
	good("high bytes", "STATUS=\x80\xff", "T", "\xef\xbf\xbd\xef\xbf\xbd");
	good("Latin-1", "STATUS=caf\xe9", "T", "caf\xef\xbf\xbd");
	good("surrogate", "STATUS=<\xed\xa0\x80>", "T", "<\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd>");
	good("overlong", "STATUS=\xc0\xaf", "T", "\xef\xbf\xbd\xef\xbf\xbd");
}

/* Each byte alone between '<' and '>': kept, '?' or U+FFFD. */
static void test_status_bytes(void)
{
	char buf[NOTIFY_MAX_DATAGRAM + 16], want[NOTIFY_STATUS_MAX + 16];
	struct notify_msg m;
	int replaced = 0;

	for (int c = 1; c < 256; c++) {
		if (c == '\n')
			continue;
		buf[0] = '\0';
		snprintf(buf, sizeof(buf), "STATUS=<%c>", c);
		if (parse(buf, 10, &m) != 0)
			continue;
		bool control = c < 0x20 || c == 0x7f;
		char want1[8];

		snprintf(want1, sizeof(want1), "<%s>",
			 control     ? "?"
			 : c >= 0x80 ? "\xef\xbf\xbd"
				     : (char[]){(char)c, 0});
		if (strcmp(m.status, want1) == 0)
			replaced++;
		else
			diag("byte 0x%02x: status \"%s\"", c, m.status);
	}
	is_int(254, replaced, "every byte but NUL and newline: kept, '?' or U+FFFD");
	/* A long status of control bytes: replaced and truncated. */
	memcpy(buf, "STATUS=", 7);
	memset(buf + 7, '\t', 600);
	memset(want, '?', NOTIFY_STATUS_MAX - 1);
	want[NOTIFY_STATUS_MAX - 1] = '\0';
	if (is_int(0, parse(buf, 607, &m), "600 tabs parse"))
		is_string(want, m.status, "600 tabs: 255 '?'");
}

/* A status cut at its limit keeps whole characters only: each multi-byte
 * character is tried across the limit at each of its byte positions. */
static void test_status_cut(void)
{
	static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	char buf[NOTIFY_STATUS_MAX + 32];
	struct notify_msg m;
	int bad = 0, tried = 0;

	for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
		size_t w = strlen(chars[c]);
		for (size_t before = NOTIFY_STATUS_MAX - 1 - w - 1; before <= NOTIFY_STATUS_MAX;
		     before++) {
			size_t n = 0;
			memcpy(buf, "STATUS=", 7);
			memset(buf + 7, 'a', before);
			n = 7 + before;
			memcpy(buf + n, chars[c], w);
			n += w;
			buf[n++] = 'z';
			size_t room = NOTIFY_STATUS_MAX - 1;
			size_t want = before >= room	   ? room
				      : before + w <= room ? before + w
							   : before;
			want += want == before + w && want < room;
			tried++;
			if (parse(buf, n, &m) != 0 || strlen(m.status) != want ||
			    memcmp(m.status, buf + 7, want) != 0) {
				diag("%zu-byte character after %zu bytes: kept %zu, want %zu", w,
				     before, strlen(m.status), want);
				bad++;
			}
		}
	}
	ok(tried > 0 && bad == 0, "%d statuses cut across a character: whole characters only",
	   tried);
}

static void test_reset(void)
{
	struct notify_msg m;

	memset(&m, 0xff, sizeof(m));
	is_int(0, parse("X=1", 3, &m), "a message with no known key");
	is_string("-", flags(&m), "earlier contents are cleared");
	is_string("", m.status, "earlier status is cleared");
	is_int(0, parse("READY=1\nSTATUS=a", 16, &m), "ready, status");
	is_int(0, parse("STOPPING=1", 10, &m), "then stopping");
	is_string("S", flags(&m), "ready and status gone");
}

/* The biggest datagram the supervisor reads, full of short lines. */
static void test_big(void)
{
	static char buf[NOTIFY_MAX_DATAGRAM];
	struct notify_msg m;
	size_t n = 0;

	while (n + 8 <= sizeof(buf)) {
		memcpy(buf + n, "READY=1\n", 8);
		n += 8;
	}
	memset(buf + n, '\n', sizeof(buf) - n);
	if (is_int(0, parse(buf, sizeof(buf), &m), "4096 bytes of READY=1 lines"))
		ok(m.ready, "4096 bytes: ready");
	memset(buf, '=', sizeof(buf));
	is_int(0, parse(buf, sizeof(buf), &m), "4096 bytes of '=': one line, unknown key");
	memset(buf, 'a', sizeof(buf));
	is_int(-1, parse(buf, sizeof(buf), &m), "4096 bytes without '=': refused");
}

/* --- the socket ---------------------------------------------------------- */

/* Open descriptors, from /proc/self/fd (the directory's own fd counted). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static socklen_t address(const char *name, struct sockaddr_un *sun)
{
	size_t len = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, len);
	if (sun->sun_path[0] == '@')
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Sends one datagram to name, with fds (if nfds > 0) as SCM_RIGHTS. */
static int send_dgram(const char *name, const void *data, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} control;
	struct sockaddr_un sun;
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0 || nfds > 253)
		return -1;
	mh.msg_name = &sun;
	mh.msg_namelen = address(name, &sun);
	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	n = sendmsg(fd, &mh, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void test_fd_counter(void)
{
	int before = count_fds();
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	is_int(before + 1, count_fds(), "the fd counter sees one more descriptor");
	close(fd);
	is_int(before, count_fds(), "the fd counter sees it closed");
}

static void test_open(int fd, const char *name)
{
	char other[128], dir[128];
	struct stat st;
	int fd2;

	ok(fd >= 0, "notify_open gives a descriptor");
	ok(name[0] == '/' && strstr(name, "/c.sock.notify/") != NULL,
	   "name \"%s\" is a path in the directory beside the control socket", name);
	ok(stat(name, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	   "the socket file has mode 0600");
	snprintf(dir, sizeof(dir), "%s", name);
	*strrchr(dir, '/') = '\0';
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0711,
	   "its directory has mode 0711 (reachable, not listable)");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "notify socket is CLOEXEC");
	ok(fcntl(fd, F_GETFL) & O_NONBLOCK, "notify socket is non-blocking");
	fd2 = notify_open(geteuid(), other, sizeof(other));
	ok(fd2 >= 0 && strcmp(name, other) != 0, "a second socket has another name (%s)", other);
	if (fd2 >= 0)
		notify_close(fd2, other);
	ok(access(other, F_OK) < 0, "notify_close removes the socket file");
}

static void test_receive(int fd, const char *name)
{
	char buf[NOTIFY_MAX_DATAGRAM];
	static char big[NOTIFY_MAX_DATAGRAM + 1000];
	struct ucred cred;
	size_t len = 0;

	is_int(0, notify_receive(fd, buf, sizeof(buf), &len, &cred), "nothing waiting: 0");

	ok(send_dgram(name, "READY=1", 7, NULL, 0) == 0, "send READY=1");
	memset(&cred, 0, sizeof(cred));
	if (is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "READY=1 received")) {
		is_int(7, (long long)len, "length 7");
		ok(memcmp(buf, "READY=1", 7) == 0, "the bytes sent");
		is_int(getpid(), cred.pid, "credentials: our pid");
		is_int((long long)getuid(), (long long)cred.uid, "credentials: our uid");
		is_int((long long)getgid(), (long long)cred.gid, "credentials: our gid");
	}
	is_int(0, notify_receive(fd, buf, sizeof(buf), &len, &cred), "then nothing: 0");

	/* Empty datagrams are received; the parser refuses them. */
	ok(send_dgram(name, "", 0, NULL, 0) == 0, "send an empty datagram");
	len = 99;
	is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "empty datagram received");
	is_int(0, (long long)len, "empty datagram: length 0");

	/* The biggest accepted, and one byte more. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	ok(send_dgram(name, big, NOTIFY_MAX_DATAGRAM, NULL, 0) == 0, "send 4096 bytes");
	is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "4096 bytes received");
	is_int(NOTIFY_MAX_DATAGRAM, (long long)len, "4096 bytes: length");
	ok(send_dgram(name, big, NOTIFY_MAX_DATAGRAM + 1, NULL, 0) == 0, "send 4097 bytes");
	is_int(-1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "4097 bytes: dropped");
	ok(send_dgram(name, big, sizeof(big), NULL, 0) == 0, "send %zu bytes", sizeof(big));
	is_int(-1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "%zu bytes: dropped",
	       sizeof(big));
	is_int(0, notify_receive(fd, buf, sizeof(buf), &len, &cred),
	       "a dropped datagram is gone from the queue");
	/* A smaller buffer from the caller is the limit. */
	ok(send_dgram(name, "READY=1", 7, NULL, 0) == 0, "send READY=1 again");
	is_int(-1, notify_receive(fd, buf, 6, &len, &cred), "7 bytes into 6: dropped");
	/* The next datagram is not disturbed by the dropped ones. */
	ok(send_dgram(name, "STOPPING=1", 10, NULL, 0) == 0, "send STOPPING=1");
	if (is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "STOPPING=1 received"))
		ok(len == 10 && memcmp(buf, "STOPPING=1", 10) == 0, "STOPPING=1: its bytes");
}

/* Descriptors passed along are closed, whether the datagram is kept or not. */
static void test_passed_fds(int fd, const char *name)
{
	char buf[NOTIFY_MAX_DATAGRAM];
	static char big[NOTIFY_MAX_DATAGRAM * 2];
	static int many[253];
	struct ucred cred;
	size_t len;
	int p[2], before;

	if (pipe2(p, O_CLOEXEC) < 0) {
		ok(false, "pipe2");
		return;
	}
	before = count_fds();
	ok(send_dgram(name, "FDSTORE=1", 9, p, 2) == 0, "send FDSTORE=1 with 2 fds");
	ok(send_dgram(name, "READY=1", 7, p, 1) == 0, "send READY=1 with 1 fd");
	memset(big, 'x', sizeof(big));
	ok(send_dgram(name, big, sizeof(big), p, 2) == 0, "send %zu bytes with 2 fds", sizeof(big));
	close(p[0]);
	close(p[1]);
	before -= 2;
	is_int(before, count_fds(), "our copies closed");

	if (is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "FDSTORE=1 received"))
		ok(len == 9 && memcmp(buf, "FDSTORE=1", 9) == 0, "FDSTORE=1: its bytes");
	is_int(before, count_fds(), "FDSTORE=1: the 2 fds were closed");
	if (is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "READY=1 received"))
		ok(len == 7 && memcmp(buf, "READY=1", 7) == 0, "READY=1: its bytes");
	is_int(before, count_fds(), "READY=1: the fd was closed");
	is_int(-1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "oversized with fds: -1");
	is_int(before, count_fds(), "oversized: the 2 fds were closed");

	/* As many as one message can carry. */
	size_t n = 0;

	while (n < sizeof(many) / sizeof(many[0])) {
		many[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (many[n] < 0)
			break;
		n++;
	}
	ok(send_dgram(name, "READY=1", 7, many, n) == 0, "send READY=1 with %zu fds", n);
	for (size_t i = 0; i < n; i++)
		close(many[i]);
	is_int(before, count_fds(), "our %zu copies closed", n);
	is_int(1, notify_receive(fd, buf, sizeof(buf), &len, &cred), "READY=1 with %zu fds", n);
	is_int(before, count_fds(), "the %zu fds were closed", n);
	is_int(0, notify_receive(fd, buf, sizeof(buf), &len, &cred), "queue empty");
}

static void test_socket(void)
{
	char name[128], dir[128], err[256];
	char tmpl[] = "/tmp/segue-unit-sock.XXXXXX";
	if (!mkdtemp(tmpl)) {
		ok(false, "mkdtemp");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/c.sock", tmpl);
	ok(notify_dir_open_beside(dir, err, sizeof(err)) == 0,
	   "notify_dir_open_beside makes the sockets' directory");
	int fd = notify_open(geteuid(), name, sizeof(name));
	if (fd < 0) {
		ok(false, "notify_open");
		return;
	}
	test_open(fd, name);
	test_receive(fd, name);
	test_passed_fds(fd, name);
	snprintf(dir, sizeof(dir), "%s", name);
	*strrchr(dir, '/') = '\0';
	notify_close(fd, name);
	notify_dir_close();
	ok(access(dir, F_OK) < 0, "notify_dir_close removes the directory");
	rmdir(tmpl);
}

static void like_err(const char *err, const char *want)
{
	ok(strstr(err, want) != NULL, "the message says \"%s\": %s", want, err);
}

static char base[] = "/tmp/segue-unit-notify.XXXXXX";

static const char *in_base(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", base, name);
	return buf[i];
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

/* The stable directory beside the control socket, and what a crash left. */
static void test_beside_leftovers(void)
{
	char err[512], name[128], name2[128], dir[256];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", in_base("c.sock.notify"));
	is_int(0, notify_dir_open_beside(in_base("c.sock"), err, sizeof(err)),
	       "notify_dir_open_beside makes CONTROL.notify");
	ok(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0711 &&
	       st.st_uid == geteuid(),
	   "a directory of segue's euid, mode 0711");
	int fd = notify_open(geteuid(), name, sizeof(name));
	ok(fd >= 0 && strncmp(name, dir, strlen(dir)) == 0 && name[strlen(dir)] == '/',
	   "notify_open puts its socket there (%s)", name);
	/* A crash: the socket is closed but its file stays, with some junk. */
	close(fd);
	int junk = open(in_base("c.sock.notify/junk"), O_WRONLY | O_CREAT, 0600);
	ok(junk >= 0 && close(junk) == 0 && mkdir(in_base("c.sock.notify/sub"), 0700) == 0,
	   "a stale socket, a file and a directory are left in it");
	ok(chmod(dir, 0777) == 0, "and its mode is changed");

	is_int(0, notify_dir_open_beside(in_base("c.sock"), err, sizeof(err)),
	       "the next run opens the same directory: %s", err);
	ok(access(name, F_OK) < 0 && errno == ENOENT, "the stale socket is removed");
	ok(access(in_base("c.sock.notify/junk"), F_OK) < 0, "so is the file");
	ok(S_ISDIR(mode_of(in_base("c.sock.notify/sub"))), "a directory is left alone");
	is_int(0711, (long long)(mode_of(dir) & 07777), "the mode is 0711 again");
	fd = notify_open(geteuid(), name2, sizeof(name2));
	ok(fd >= 0, "a socket opens there again (%s)", name2);
	if (fd >= 0)
		notify_close(fd, name2);
	rmdir(in_base("c.sock.notify/sub"));
	notify_dir_close();
	ok(access(dir, F_OK) < 0, "notify_dir_close removes it");
}

/* What the path may not be: a symlink, a file, another user's directory. */
static void test_beside_refused(void)
{
	char err[512];
	const char *target = in_base("target");

	ok(mkdir(target, 0700) == 0 && symlink(target, in_base("d.sock.notify")) == 0,
	   "CONTROL.notify is a symlink to a 0700 directory");
	is_int(-1, notify_dir_open_beside(in_base("d.sock"), err, sizeof(err)),
	       "a symlink is refused");
	like_err(err, "d.sock.notify exists and is not a directory");
	is_int(0700, (long long)(mode_of(target) & 07777), "the directory behind it keeps 0700");

	int fd = open(in_base("e.sock.notify"), O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0 && close(fd) == 0, "CONTROL.notify is a file");
	is_int(-1, notify_dir_open_beside(in_base("e.sock"), err, sizeof(err)),
	       "a file is refused");
	like_err(err, "e.sock.notify exists and is not a directory");

	if (geteuid() == 0) {
		const char *other = in_base("f.sock.notify");
		ok(mkdir(other, 0755) == 0 && chown(other, 65534, 65534) == 0,
		   "CONTROL.notify is a directory of uid 65534");
		errno = 0;
		is_int(-1, notify_dir_open_beside(in_base("f.sock"), err, sizeof(err)),
		       "another user's directory is refused");
		is_int(EPERM, errno, "with EPERM");
		like_err(err, "owned by uid 65534");
		is_int(0755, (long long)(mode_of(other) & 07777), "its mode is left alone");
	}

	char longpath[200];
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	is_int(-1, notify_dir_open_beside(longpath, err, sizeof(err)),
	       "a path too long for its sockets is refused");
	is_int(ENAMETOOLONG, errno, "with ENAMETOOLONG");
	is_int(-1, notify_dir_open_beside(NULL, err, sizeof(err)), "no control path: refused");
}

static void test_beside(void)
{
	if (!mkdtemp(base)) {
		ok(false, "mkdtemp");
		return;
	}
	test_beside_leftovers();
	test_beside_refused();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		diag("could not remove %s", base);
}

int main(void)
{
	plan_lazy();
	test_keys();
	test_lines();
	test_status();
	test_status_bytes();
	test_status_cut();
	test_reset();
	test_big();
	test_fd_counter();
	test_socket();
	test_beside();
	return tap_done();
}
