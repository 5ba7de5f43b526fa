/* loadgen.c: an HTTP/1.1 load client that counts every lost request (tests, benchmarks). */
/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX	     16384 /* response status line and headers */
#define MAX_EVENTS   256
#define MAX_ATTEMPTS 5	       /* one request, retried after keep-alive races */
#define STOP_POLL_NS (20 * MS) /* how often the stop file is looked for */
#define ERROR_PAUSE_NS                                                                             \
	(10 * MS) /* a slot rests after an error, so a dead                                        \
		   * server does not spin the loop */
#define HARD_CAP_NS	(600 * SEC)
#define MAX_ERROR_LINES 20
#define MAX_GENERATIONS 256
#define SUB_BITS	6 /* 64 sub-buckets per power of two: <1.6% error */
#define SUB		(1 << SUB_BITS)
#define MAX_EXP		40
#define NBUCKETS	(SUB + (MAX_EXP - SUB_BITS + 1) * SUB)

#define MS  1000000LL
#define SEC 1000000000LL

enum sstate {
	S_IDLE, /* no request; may hold a kept-alive connection */
	S_CONNECTING,
	S_SENDING,
	S_RECEIVING,
};

enum ekind { E_CONNECT, E_RESET, E_EOF, E_TIMEOUT, E_STATUS, E_KINDS };

static const char *const ekind_name[E_KINDS] = {
    "connect", "reset", "eof", "timeout", "bad_status",
};

struct slot {
	int fd;
	enum sstate st;
	uint32_t events;
	bool reused; /* the connection carried a complete response */
	int attempts;
	int64_t t_start;   /* the request began (latency) */
	int64_t t_attempt; /* this attempt began (timeout) */
	int64_t t_next;	   /* an idle slot starts its next request then */
	size_t sent;
	size_t got; /* response bytes in this attempt */
	size_t hdr_len;
	bool in_body, server_close;
	int64_t body_left; /* -1: the body ends at EOF */
	int status;
	char hdr[HDR_MAX];
};

static struct {
	const char *addr_text;
	int conns;
	bool keepalive;
	double duration_s;
	long long max_requests;
	const char *stop_file;
	const char *path;
	const char *flow_file;
	double timeout_s;
	bool quiet;
} opt = {NULL, 8, false, 10.0, 0, NULL, "/", NULL, 5.0, false};

static struct sockaddr_storage addr;
static socklen_t addr_len;
static char *request;
static size_t request_len;

static int epfd = -1;
static struct slot *slots;
static int64_t t0;
static bool stopping;
static volatile sig_atomic_t got_signal;
static long long started;

static struct {
	long long requests, ok, errors, retried;
	long long kind[E_KINDS];
	long long hist[NBUCKETS];
	int64_t max_us;
	unsigned long gens[MAX_GENERATIONS];
	int ngens;
	char lines[MAX_ERROR_LINES][200];
	int nlines;
	bool flow_signalled;
} st;

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die(1, "clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* ---- options ---- */

static void usage(FILE *f, int status) __attribute__((noreturn));
static void usage(FILE *f, int status)
{
	fputs("usage: loadgen -a ADDR [-c CONNS] [-k] [-d SECONDS] [-n REQUESTS]\n"
	      "               [-s STOPFILE] [-w FLOWFILE] [-p PATH] [-t TIMEOUT] [-q]\n"
	      "ADDR: IPV4:PORT, [IPV6]:PORT or unix:/path\n",
	      f);
	exit(status);
}

static double parse_num(const char *s, double min, double max, char o)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr, "loadgen: -%c: bad value \"%s\"\n", o, s);
		usage(stderr, 2);
	}
	return v;
}

static bool parse_port(const char *s, in_port_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return false;
	*port = htons((in_port_t)v);
	return true;
}

static bool parse_unix(const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&addr;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof sun->sun_path)
		return false;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0'; /* abstract: no trailing NUL */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
	return true;
}

static bool parse_inet(const char *a)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&addr;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = a;
	size_t hlen;

	if (a[0] == '[') {
		colon = strstr(a, "]:");
		h = a + 1;
		if (!colon)
			return false;
	} else {
		colon = strrchr(a, ':');
	}
	if (!colon || (hlen = (size_t)(colon - h)) >= sizeof host)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (a[0] == '[') {
		s6->sin6_family = AF_INET6;
		addr_len = sizeof *s6;
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 &&
		       parse_port(colon + 2, &s6->sin6_port);
	}
	s4->sin_family = AF_INET;
	addr_len = sizeof *s4;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 && parse_port(colon + 1, &s4->sin_port);
}

static void build_request(void)
{
	const char *host = addr.ss_family == AF_UNIX ? "localhost" : opt.addr_text;
	int n;

	if (opt.path[0] != '/' || strpbrk(opt.path, " \r\n\t"))
		die(2, "-p: bad path \"%s\"", opt.path);
	n = asprintf(&request,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: segue-loadgen\r\n"
		     "Connection: %s\r\n\r\n",
		     opt.path, host, opt.keepalive ? "keep-alive" : "close");
	if (n < 0)
		die(1, "out of memory");
	request_len = (size_t)n;
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "a:c:kd:n:s:p:qw:t:h")) != -1) {
		switch (c) {
		case 'a':
			opt.addr_text = optarg;
			break;
		case 'c':
			opt.conns = (int)parse_num(optarg, 1, 10000, 'c');
			break;
		case 'k':
			opt.keepalive = true;
			break;
		case 'd':
			opt.duration_s = parse_num(optarg, 0.001, 600, 'd');
			break;
		case 'n':
			opt.max_requests = (long long)parse_num(optarg, 1, 1e12, 'n');
			break;
		case 's':
			opt.stop_file = optarg;
			break;
		case 'p':
			opt.path = optarg;
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'w':
			opt.flow_file = optarg;
			break;
		case 't':
			opt.timeout_s = parse_num(optarg, 0.001, 600, 't');
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc || !opt.addr_text)
		usage(stderr, 2);
	if (strncmp(opt.addr_text, "unix:", 5) == 0 ? !parse_unix(opt.addr_text + 5)
						    : !parse_inet(opt.addr_text))
		die(2, "-a: bad address \"%s\" (IPV4:PORT, [IPV6]:PORT, unix:/path)",
		    opt.addr_text);
	build_request();
}

/* ---- statistics ---- */

static int bucket_of(int64_t us)
{
	int e;

	if (us < SUB)
		return us < 0 ? 0 : (int)us;
	e = 63 - __builtin_clzll((unsigned long long)us);
	if (e > MAX_EXP)
		return NBUCKETS - 1;
	return SUB + (e - SUB_BITS) * SUB + (int)((us >> (e - SUB_BITS)) - SUB);
}

/* The middle of bucket i, in microseconds. */
static double bucket_value(int i)
{
	int e, m;

	if (i < SUB)
		return i;
	e = (i - SUB) / SUB + SUB_BITS;
	m = (i - SUB) % SUB + SUB;
	return ldexp(m + 0.5, e - SUB_BITS);
}

static double percentile_ms(double p)
{
	long long n = 0, rank, seen = 0;

	for (int i = 0; i < NBUCKETS; i++)
		n += st.hist[i];
	if (n == 0)
		return 0;
	rank = (long long)ceil(p * (double)n);
	for (int i = 0; i < NBUCKETS; i++) {
		seen += st.hist[i];
		if (seen >= rank)
			return fmin(bucket_value(i), (double)st.max_us) / 1000.0;
	}
	return (double)st.max_us / 1000.0;
}

static void record_generation(const char *v, size_t n)
{
	unsigned long g = 0;

	if (n == 0 || n > 18)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return;
		g = g * 10 + (unsigned long)(v[i] - '0');
	}
	for (int i = 0; i < st.ngens; i++)
		if (st.gens[i] == g)
			return;
	if (st.ngens < MAX_GENERATIONS)
		st.gens[st.ngens++] = g;
}

static void error_line(const struct slot *s, enum ekind k, const char *what)
{
	if (st.nlines >= MAX_ERROR_LINES)
		return;
	snprintf(st.lines[st.nlines++], sizeof st.lines[0],
		 "t=%.3fs kind=%s conn=%s attempt=%d bytes=%zu: %s", (double)(now_ns() - t0) / SEC,
		 ekind_name[k], s->reused ? "reused" : "new", s->attempts, s->got, what);
}

/* ---- slots ---- */

static void slot_watch(struct slot *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};

	if (events == s->events)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
		die(1, "epoll_ctl: %s", strerror(errno));
	s->events = events;
}

static void slot_disconnect(struct slot *s)
{
	if (s->fd >= 0 && close(s->fd) < 0)
		die(1, "close: %s", strerror(errno));
	s->fd = -1;
	s->reused = false;
	s->events = 0;
}

static bool may_start(void)
{
	return !stopping && (opt.max_requests == 0 || started < opt.max_requests);
}

static void start_request(struct slot *s);

/* The request is counted; the slot goes on at once unless it rests. */
static void request_done(struct slot *s, int64_t pause)
{
	st.requests++;
	s->st = S_IDLE;
	s->t_next = now_ns() + pause;
	if (!opt.keepalive || stopping)
		slot_disconnect(s);
	if (pause == 0 && may_start())
		start_request(s);
}

static void fail(struct slot *s, enum ekind k, const char *what)
{
	st.errors++;
	st.kind[k]++;
	error_line(s, k, what);
	slot_disconnect(s);
	request_done(s, ERROR_PAUSE_NS);
}

static void fail_errno(struct slot *s, enum ekind k, int err)
{
	fail(s, k, strerror(err));
}

static void begin_attempt(struct slot *s);

/* The server closed a kept-alive connection as our request went out:
 * the request was never seen, and any HTTP client retries it. */
static bool retry_if_race(struct slot *s)
{
	if (!s->reused || s->got > 0 || s->attempts >= MAX_ATTEMPTS)
		return false;
	st.retried++;
	slot_disconnect(s);
	begin_attempt(s);
	return true;
}

static void send_request(struct slot *s)
{
	while (s->sent < request_len) {
		ssize_t n = send(s->fd, request + s->sent, request_len - s->sent, MSG_NOSIGNAL);

		if (n >= 0) {
			s->sent += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			slot_watch(s, EPOLLOUT);
			return;
		} else if (errno != EINTR) {
			int err = errno;

			if (!retry_if_race(s))
				fail_errno(s, E_RESET, err);
			return;
		}
	}
	s->st = S_RECEIVING;
	slot_watch(s, EPOLLIN);
}

static bool slot_connect(struct slot *s)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
	int one = 1;

	s->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		die(1, "socket: %s", strerror(errno));
	if (addr.ss_family != AF_UNIX &&
	    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		die(1, "TCP_NODELAY: %s", strerror(errno));
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		die(1, "epoll_ctl: %s", strerror(errno));
	s->events = EPOLLOUT;
	if (connect(s->fd, (struct sockaddr *)&addr, addr_len) == 0)
		return true;
	if (errno == EINPROGRESS) {
		s->st = S_CONNECTING;
		return false;
	}
	/* unix sockets say EAGAIN when the accept queue is full */
	fail_errno(s, E_CONNECT, errno);
	return false;
}

static void begin_attempt(struct slot *s)
{
	s->attempts++;
	s->t_attempt = now_ns();
	s->sent = s->got = s->hdr_len = 0;
	s->in_body = s->server_close = false;
	s->status = 0;
	s->st = S_SENDING;
	if (s->fd < 0 && !slot_connect(s))
		return;
	send_request(s);
}

static void start_request(struct slot *s)
{
	started++;
	s->attempts = 0;
	s->t_start = now_ns();
	begin_attempt(s);
}

static void connect_done(struct slot *s)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		fail_errno(s, E_CONNECT, err);
		return;
	}
	s->st = S_SENDING;
	send_request(s);
}

/* ---- responses ---- */

static bool name_is(const char *l, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(l, name, n) == 0;
}

static bool parse_status_line(struct slot *s, const char *l, size_t n, bool *http11)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (l[i] < '0' || l[i] > '9')
			return false;
	if (n > 12 && l[12] != ' ')
		return false;
	*http11 = l[7] == '1';
	s->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return true;
}

/* The comma-separated tokens of a Connection header. */
static void parse_connection(struct slot *s, const char *v, size_t n, bool *ka)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t len = comma ? (size_t)(comma - v) + 1 : n;
		size_t tn = comma ? len - 1 : len;
		const char *t = v;

		while (tn > 0 && (*t == ' ' || *t == '\t'))
			t++, tn--;
		while (tn > 0 && (t[tn - 1] == ' ' || t[tn - 1] == '\t'))
			tn--;
		if (name_is(t, tn, "close"))
			s->server_close = true;
		else if (name_is(t, tn, "keep-alive"))
			*ka = true;
		v += len;
		n -= len;
	}
}

/* One header line. Returns false when it makes the response unusable. */
static bool parse_header(struct slot *s, const char *l, size_t n, bool *ka)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nlen, vlen;

	if (!colon)
		return false;
	nlen = (size_t)(colon - l);
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (name_is(l, nlen, "content-length")) {
		s->body_left = 0;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9' || i > 15)
				return false;
			s->body_left = s->body_left * 10 + (v[i] - '0');
		}
		return vlen > 0;
	}
	if (name_is(l, nlen, "transfer-encoding"))
		return false; /* the servers we test never chunk */
	if (name_is(l, nlen, "connection"))
		parse_connection(s, v, vlen, ka);
	else if (name_is(l, nlen, "x-segue-generation")) {
		record_generation(v, vlen);
	}
	return true;
}

static size_t line_end(const char *p, size_t n, size_t *next)
{
	const char *nl = memchr(p, '\n', n);
	size_t len = (size_t)(nl - p);

	*next = len + 1;
	return len > 0 && p[len - 1] == '\r' ? len - 1 : len;
}

/* Parses the header block hdr[0..end). Returns false when malformed. */
static bool parse_head(struct slot *s, size_t end)
{
	bool http11 = false, ka = false;
	size_t off = 0, next, n;

	s->body_left = -1;
	n = line_end(s->hdr, end, &next);
	if (!parse_status_line(s, s->hdr, n, &http11))
		return false;
	for (off = next; off < end; off += next) {
		n = line_end(s->hdr + off, end - off, &next);
		if (n == 0)
			break;
		if (!parse_header(s, s->hdr + off, n, &ka))
			return false;
	}
	if (s->status == 204 || s->status == 304)
		s->body_left = 0;
	if (!http11 && !ka)
		s->server_close = true;
	if (s->body_left < 0)
		s->server_close = true; /* delimited by EOF */
	return true;
}

static size_t find_head_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void mark_flowing(void)
{
	int fd;

	st.flow_signalled = true;
	if (!opt.flow_file)
		return;
	fd = open(opt.flow_file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 || close(fd) < 0)
		die(1, "%s: %s", opt.flow_file, strerror(errno));
}

static void response_done(struct slot *s)
{
	int64_t us = (now_ns() - s->t_start) / 1000;

	st.hist[bucket_of(us)]++;
	if (us > st.max_us)
		st.max_us = us;
	if (s->status == 200) {
		st.ok++;
		if (!st.flow_signalled)
			mark_flowing();
	} else {
		char what[40];

		snprintf(what, sizeof what, "HTTP status %d", s->status);
		fail(s, E_STATUS, what);
		return;
	}
	if (s->server_close)
		slot_disconnect(s);
	else
		s->reused = true;
	request_done(s, 0);
}

/* Counts body bytes. Returns false when the slot is finished with. */
static bool take_body(struct slot *s, size_t n)
{
	if (s->body_left < 0)
		return true;
	if ((int64_t)n > s->body_left) {
		fail(s, E_STATUS, "malformed: bytes after the response");
		return false;
	}
	s->body_left -= (int64_t)n;
	if (s->body_left > 0)
		return true;
	response_done(s);
	return false;
}

static void take_head(struct slot *s)
{
	size_t end = find_head_end(s->hdr, s->hdr_len);

	if (end == 0) {
		if (s->hdr_len == HDR_MAX)
			fail(s, E_STATUS, "malformed: response headers too long");
		return;
	}
	if (!parse_head(s, end)) {
		fail(s, E_STATUS, "malformed response head");
		return;
	}
	s->in_body = true;
	take_body(s, s->hdr_len - end);
}

static void on_eof(struct slot *s)
{
	if (s->in_body && s->body_left < 0) {
		response_done(s);
		return;
	}
	if (retry_if_race(s))
		return;
	fail(s, E_EOF,
	     s->got ? "EOF in the middle of the response" : "EOF before any response byte");
}

static void receive(struct slot *s)
{
	static char scratch[65536];
	char *buf = s->in_body ? scratch : s->hdr + s->hdr_len;
	size_t room = s->in_body ? sizeof scratch : HDR_MAX - s->hdr_len;
	ssize_t n = recv(s->fd, buf, room, 0);

	if (n < 0) {
		int err = errno;

		if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
			return;
		if (!retry_if_race(s))
			fail_errno(s, err == ETIMEDOUT ? E_TIMEOUT : E_RESET, err);
		return;
	}
	if (n == 0) {
		on_eof(s);
		return;
	}
	s->got += (size_t)n;
	if (s->in_body) {
		take_body(s, (size_t)n);
	} else {
		s->hdr_len += (size_t)n;
		take_head(s);
	}
}

static void on_event(struct slot *s, uint32_t ev)
{
	switch (s->st) {
	case S_CONNECTING:
		connect_done(s);
		break;
	case S_SENDING:
		send_request(s);
		break;
	case S_RECEIVING:
		receive(s);
		break;
	case S_IDLE:
		/* a kept-alive connection closed or sent junk while unused:
		 * let the next request find out, on a fresh connection */
		slot_disconnect(s);
		break;
	}
}

/* ---- the loop ---- */

static void check_stop(int64_t now)
{
	static int64_t last_look;

	if (got_signal || now - t0 >= (int64_t)(opt.duration_s * SEC))
		stopping = true;
	if (opt.stop_file && now - last_look >= STOP_POLL_NS) {
		last_look = now;
		if (access(opt.stop_file, F_OK) == 0)
			stopping = true;
	}
}

/* Starts due requests and times out stuck ones. Returns the number of
 * slots with a request in flight, and lowers *wake to the next deadline. */
static int tend_slots(int64_t now, int64_t *wake)
{
	int64_t timeout = (int64_t)(opt.timeout_s * SEC);
	int active = 0;

	for (int i = 0; i < opt.conns; i++) {
		struct slot *s = &slots[i];

		if (s->st == S_IDLE && s->t_next <= now && may_start())
			start_request(s);
		else if (s->st == S_IDLE && stopping && s->fd >= 0)
			slot_disconnect(s);
		if (s->st != S_IDLE && now - s->t_attempt >= timeout)
			fail(s, s->st == S_CONNECTING ? E_CONNECT : E_TIMEOUT,
			     s->st == S_CONNECTING ? "connect timeout" : "request timeout");
		if (s->st != S_IDLE) {
			active++;
			if (s->t_attempt + timeout < *wake)
				*wake = s->t_attempt + timeout;
		} else if (may_start() && s->t_next < *wake) {
			*wake = s->t_next;
		}
	}
	return active;
}

static void run(void)
{
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		int64_t now = now_ns(), wake = now + STOP_POLL_NS;
		int n, ms;

		check_stop(now);
		if (opt.max_requests && started >= opt.max_requests)
			stopping = true;
		if (tend_slots(now, &wake) == 0 && stopping)
			return;
		if (now - t0 >= HARD_CAP_NS)
			return;
		ms = wake <= now ? 0 : (int)((wake - now + MS - 1) / MS);
		n = epoll_wait(epfd, evs, MAX_EVENTS, ms);
		if (n < 0 && errno != EINTR)
			die(1, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events);
	}
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

static void report(double duration)
{
	qsort(st.gens, (size_t)st.ngens, sizeof st.gens[0], cmp_ulong);
	printf("requests=%lld ok=%lld errors=%lld connect_errors=%lld "
	       "reset_errors=%lld eof_errors=%lld timeouts=%lld bad_status=%lld "
	       "retried=%lld max_ms=%.3f p99_ms=%.3f p50_ms=%.3f generations=",
	       st.requests, st.ok, st.errors, st.kind[E_CONNECT], st.kind[E_RESET], st.kind[E_EOF],
	       st.kind[E_TIMEOUT], st.kind[E_STATUS], st.retried, (double)st.max_us / 1000.0,
	       percentile_ms(0.99), percentile_ms(0.50));
	for (int i = 0; i < st.ngens; i++)
		printf("%s%lu", i ? "," : "", st.gens[i]);
	printf(" duration_s=%.3f\n", duration);
	if (fflush(stdout) == EOF)
		die(1, "stdout: %s", strerror(errno));
	if (!opt.quiet)
		for (int i = 0; i < st.nlines; i++)
			fprintf(stderr, "loadgen: error: %s\n", st.lines[i]);
}

static void on_stop_signal(int sig)
{
	got_signal = sig;
}

static void setup(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};

	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		die(1, "sigaction: %s", strerror(errno));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: wake epoll_wait */
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		die(1, "sigaction: %s", strerror(errno));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die(1, "epoll_create1: %s", strerror(errno));
	slots = calloc((size_t)opt.conns, sizeof *slots);
	if (!slots)
		die(1, "out of memory");
	for (int i = 0; i < opt.conns; i++)
		slots[i].fd = -1;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	setup();
	t0 = now_ns();
	run();
	report((double)(now_ns() - t0) / SEC);
	return st.errors == 0 && st.ok > 0 ? 0 : 1;
}
