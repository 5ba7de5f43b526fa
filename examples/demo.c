/* demo.c: a small HTTP/1.1 server run under segue by the README, the tests and the benchmarks. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX	8192  /* request line and headers, terminator included */
#define IN_CAP		16384 /* one maximal header block plus pipelined bytes */
#define OUT_HIGH	65536 /* stop answering while this much output waits */
#define MAX_EVENTS	128
#define LINGER_MS	2000 /* how long a closing connection may stay half-open */
#define FRESH_GRACE_MS	1000 /* time an idle connection gets at drain */
#define ACCEPT_PAUSE_MS 100  /* after EMFILE and friends */
#define ACCEPT_GUARD_US 2000 /* longest an accept4() may block, see accept_one() */
#define SLOW_MAX_MS	600000L
#define IDENT_MAX	64

/* What an epoll event points at: the first member of each watched object. */
enum kind { K_SIGNAL, K_LISTENER, K_CONN };

struct listener {
	enum kind kind;
	int fd;
	bool tcp;
};

enum cstate {
	C_READ,	   /* reading and answering requests in order */
	C_SLOW,	   /* a /slow request waits for its deadline */
	C_CLOSING, /* the last response is queued; close once written */
	C_LINGER,  /* write side shut; input discarded until EOF */
	C_DEAD,	   /* closed during this batch of events, freed after it */
};

struct conn {
	enum kind kind;
	struct conn *prev, *next;
	int fd;
	enum cstate state;
	uint32_t events; /* what epoll watches now */
	bool rd_eof;	 /* the client shut its write side */
	bool grace_over; /* an idle connection had its drain grace */
	bool slow_head, slow_keep;
	unsigned long served;
	int64_t deadline; /* CLOCK_MONOTONIC ms, 0 for none */
	uint64_t discard; /* request body bytes still to skip */
	char *out;
	size_t out_off, out_len, out_cap;
	size_t in_len;
	char in[IN_CAP];
};

struct request {
	const char *method, *target;
	size_t method_len, target_len;
	int minor; /* HTTP/1.minor */
	bool conn_close, conn_keep;
	bool has_length;
	uint64_t length;
	bool keep_alive, head;
};

static struct {
	long startup_delay_ms;
	long exit_after_ms; /* exit 1 this long after serving began; 0: never */
	long drain_timeout_ms;
	const char *ready_file;
	bool notify;
} opt = {.drain_timeout_ms = 30000, .notify = true};

static int epfd = -1;
static struct {
	enum kind kind;
	int fd;
} sigw = {K_SIGNAL, -1};
static struct listener *listeners;
static int nlisteners;
static bool listening;		 /* listeners are in the epoll set */
static int64_t accept_resume_at; /* 0 unless accepting is paused */
static struct conn *conns;	 /* live connections */
static struct conn *graveyard;	 /* closed, freed after the event batch */
static size_t nconns, ndeadlines;
static bool draining;
static int64_t drain_deadline;

static char ident_pid[IDENT_MAX], ident_gen[IDENT_MAX], ident_worker[IDENT_MAX];
static char ident_body[3 * IDENT_MAX + 40];
static size_t ident_len;
static char *env_body;
static size_t env_len;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void sysdie(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void conn_step(struct conn *c);

static void vmsg(const char *fmt, va_list ap, int err) __attribute__((format(printf, 1, 0)));
static void vmsg(const char *fmt, va_list ap, int err)
{
	fprintf(stderr, "demo[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

static void syswarn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void syswarn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, err);
	va_end(ap);
}

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

static void sysdie(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, err);
	va_end(ap);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		sysdie("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- options and identity ---- */

static void usage(FILE *f, int status) __attribute__((noreturn));
static void usage(FILE *f, int status)
{
	fprintf(f, "usage: demo [--startup-delay MS] [--ready-file PATH] [--no-notify]\n"
		   "            [--drain-timeout MS] [--exit-after MS]\n"
		   "Serves HTTP on the sockets passed by socket activation (LISTEN_FDS).\n");
	exit(status);
}

static long parse_ms(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 24L * 3600 * 1000) {
		fprintf(stderr, "demo: %s: bad number of milliseconds \"%s\"\n", what, s);
		usage(stderr, 2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"startup-delay", required_argument, NULL, 's'},
	    {"ready-file", required_argument, NULL, 'r'},
	    {"no-notify", no_argument, NULL, 'N'},
	    {"drain-timeout", required_argument, NULL, 'D'},
	    {"exit-after", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.startup_delay_ms = parse_ms(optarg, "--startup-delay");
			break;
		case 'r':
			opt.ready_file = optarg;
			break;
		case 'N':
			opt.notify = false;
			break;
		case 'D':
			opt.drain_timeout_ms = parse_ms(optarg, "--drain-timeout");
			break;
		case 'x':
			opt.exit_after_ms = parse_ms(optarg, "--exit-after");
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
}

/* Copies an environment value for use in a header: a hostile value must
 * not be able to inject header lines, so it stops at the first non-printable. */
static void ident_copy(char *dst, const char *name, const char *dflt)
{
	const char *v = getenv(name);
	size_t i;

	if (!v || !*v)
		v = dflt;
	for (i = 0; i < IDENT_MAX - 1 && v[i] > ' ' && v[i] < 127; i++)
		dst[i] = v[i];
	dst[i] = '\0';
}

static void ident_init(void)
{
	int n;

	snprintf(ident_pid, sizeof ident_pid, "%d", (int)getpid());
	ident_copy(ident_gen, "SEGUE_GENERATION", "0");
	ident_copy(ident_worker, "SEGUE_WORKER", "-");
	n = snprintf(ident_body, sizeof ident_body, "pid=%s generation=%s worker=%s\n", ident_pid,
		     ident_gen, ident_worker);
	ident_len = (size_t)n;
}

/* /env shows the environment as the process received it: taken before
 * sd_listen_fds() removes LISTEN_*, which tests want to see. */
static void env_snapshot(void)
{
	extern char **environ;
	size_t len = 0;
	char **e;

	for (e = environ; *e; e++)
		len += strlen(*e) + 1;
	env_body = malloc(len + 1);
	if (!env_body)
		die(1, "out of memory");
	for (e = environ; *e; e++) {
		size_t n = strlen(*e);

		memcpy(env_body + env_len, *e, n);
		env_len += n;
		env_body[env_len++] = '\n';
	}
}

/* ---- sockets, signals, readiness ---- */

static void take_sockets(void)
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		errno = -n;
		syswarn("sd_listen_fds");
	}
	if (n <= 0)
		die(2, "no listening sockets: run me under segue or systemd-socket-activate");
	listeners = calloc((size_t)n, sizeof *listeners);
	if (!listeners)
		die(1, "out of memory");
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			msg("fd %d is not a listening stream socket, ignored", fd);
			continue;
		}
		listeners[nlisteners].kind = K_LISTENER;
		listeners[nlisteners].fd = fd;
		listeners[nlisteners].tcp = sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) > 0;
		nlisteners++;
	}
	if (nlisteners == 0)
		die(2, "none of the %d inherited fds is a listening stream socket", n);
}

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt accept4(), see accept_one() */
}

static void signals_init(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigset_t set;

	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		sysdie("sigaction SIGPIPE");
	sa.sa_handler = on_alarm; /* no SA_RESTART: accept4 must see EINTR */
	if (sigemptyset(&sa.sa_mask) < 0 || sigaction(SIGALRM, &sa, NULL) < 0)
		sysdie("sigaction SIGALRM");
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGTERM) < 0 || sigaddset(&set, SIGINT) < 0)
		sysdie("sigset");
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		sysdie("sigprocmask");
	sigw.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigw.fd < 0)
		sysdie("signalfd");
}

static void watch(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		sysdie("epoll_ctl add fd %d", fd);
}

static void notify(const char *state)
{
	int r;

	if (!opt.notify)
		return;
	r = sd_notify(0, state);
	if (r < 0) {
		errno = -r;
		syswarn("sd_notify");
	}
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0644);

	if (fd < 0)
		sysdie("cannot create ready file %s", path);
	if (futimens(fd, NULL) < 0)
		sysdie("futimens %s", path);
	if (close(fd) < 0)
		sysdie("close %s", path);
}

/* ---- listeners ----
 * The listening sockets are shared with segue and every other worker, so
 * their O_NONBLOCK flag (shared by all) is never touched, and the epoll
 * registration must be removed by hand: close() alone does not drop it
 * while other processes still hold the same open file. */

/* No EPOLLEXCLUSIVE: it hands each new connection's wakeup to one worker
 * only, and if that worker is draining or paused the connection waits in
 * the queue, unseen by the others, until the next client arrives. */
static void listeners_watch(bool on)
{
	for (int i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
		int op = on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;

		if (epoll_ctl(epfd, op, l->fd, &ev) < 0)
			sysdie("epoll_ctl listener fd %d", l->fd);
	}
	listening = on;
}

static void listeners_close(void)
{
	if (listening)
		listeners_watch(false);
	for (int i = 0; i < nlisteners; i++) {
		if (close(listeners[i].fd) < 0)
			syswarn("close listener fd %d", listeners[i].fd);
		listeners[i].fd = -1;
	}
	nlisteners = 0;
	accept_resume_at = 0;
}

static void accept_pause(void)
{
	if (listening)
		listeners_watch(false);
	accept_resume_at = now_ms() + ACCEPT_PAUSE_MS;
}

/* Periodic, not one-shot: if we are preempted between arming and
 * accept4() for longer than one period, the first SIGALRM is spent before
 * the call and only a later one can interrupt it. */
static void accept_guard(long usec)
{
	struct itimerval it = {.it_value = {.tv_usec = usec}, .it_interval = {.tv_usec = usec}};

	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		sysdie("setitimer");
}

static void conn_open(int fd, bool tcp)
{
	struct conn *c = calloc(1, sizeof *c);
	int one = 1;

	if (!c)
		die(1, "out of memory");
	/* responses are written whole: Nagle would only add delay */
	if (tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		syswarn("TCP_NODELAY");
	c->kind = K_CONN;
	c->fd = fd;
	c->events = EPOLLIN;
	watch(fd, c->events, c);
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
}

/* epoll said readable, but every worker was woken and another may take
 * the connection first; on a blocking socket accept4() would then sleep
 * until the next client. A fresh poll() makes that rare, and a short
 * interval timer (SIGALRM, no SA_RESTART) bounds the sleep when it still
 * happens. One accept per wakeup: the level-triggered epoll reports the
 * socket again while the queue holds more. */
static void accept_one(struct listener *l)
{
	struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
	int fd, err;

	if (poll(&pfd, 1, 0) < 0) {
		if (errno != EINTR)
			sysdie("poll listener fd %d", l->fd);
		return;
	}
	if (!(pfd.revents & POLLIN))
		return;
	accept_guard(ACCEPT_GUARD_US);
	fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	err = errno;
	accept_guard(0);
	if (fd >= 0) {
		conn_open(fd, l->tcp);
		return;
	}
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return; /* lost the race, or the client left already */
	default:
		errno = err;
		syswarn("accept4 on fd %d, pausing", l->fd);
		accept_pause(); /* EMFILE and the like: do not spin */
	}
}

/* ---- connections: buffers ---- */

static size_t out_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

static void out_reserve(struct conn *c, size_t more)
{
	size_t cap;
	char *p;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + more <= c->out_cap)
		return;
	cap = c->out_cap ? c->out_cap : 2048;
	while (cap < c->out_len + more)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		die(1, "out of memory");
	c->out = p;
	c->out_cap = cap;
}

static void out_append(struct conn *c, const char *data, size_t len)
{
	out_reserve(c, len);
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static void set_deadline(struct conn *c, int64_t t)
{
	ndeadlines += (t != 0);
	ndeadlines -= (c->deadline != 0);
	c->deadline = t;
}

static void conn_close(struct conn *c)
{
	if (close(c->fd) < 0)
		syswarn("close connection fd %d", c->fd);
	set_deadline(c, 0);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->state = C_DEAD;
	c->fd = -1;
	c->next = graveyard; /* later events of this batch may point here */
	graveyard = c;
	nconns--;
}

static void bury_dead(void)
{
	while (graveyard) {
		struct conn *c = graveyard;

		graveyard = c->next;
		free(c->out);
		free(c);
	}
}

/* Returns false when the connection was closed. */
static bool conn_read(struct conn *c)
{
	size_t room = IN_CAP - c->in_len;
	ssize_t n;

	if (room == 0 || c->rd_eof)
		return true;
	n = recv(c->fd, c->in + c->in_len, room, 0);
	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0)
		c->rd_eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_close(c); /* reset: the client is gone */
		return false;
	}
	return true;
}

/* Returns false when the connection was closed. */
static bool conn_flush(struct conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			c->out_off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return true;
		} else if (errno != EINTR) {
			conn_close(c); /* EPIPE, ECONNRESET: client left mid-response */
			return false;
		}
	}
	c->out_off = c->out_len = 0;
	return true;
}

/* ---- HTTP parsing: pure functions on the bytes of one request ---- */

/* Length of the header block ending in an empty line, 0 if incomplete. */
static size_t header_end(const char *p, size_t len)
{
	const char *nl = p, *end = p + len;

	while ((nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL) {
		nl++;
		if (nl < end && *nl == '\n')
			return (size_t)(nl + 1 - p);
		if (nl + 1 < end && nl[0] == '\r' && nl[1] == '\n')
			return (size_t)(nl + 2 - p);
	}
	return 0;
}

static bool token_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static void parse_connection(const char *v, size_t n, struct request *rq)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t len = comma ? (size_t)(comma - v) : n;
		const char *t = v;
		size_t tn = len;

		trim(&t, &tn);
		if (token_is(t, tn, "close"))
			rq->conn_close = true;
		else if (token_is(t, tn, "keep-alive"))
			rq->conn_keep = true;
		v += len;
		n -= len;
		if (comma) {
			v++;
			n--;
		}
	}
}

static int parse_length(const char *v, size_t n, struct request *rq)
{
	uint64_t len = 0;

	if (n == 0 || n > 15)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	if (rq->has_length && rq->length != len)
		return 400; /* conflicting lengths: request smuggling */
	rq->has_length = true;
	rq->length = len;
	return 200;
}

static int parse_header(const char *l, size_t n, struct request *rq)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nlen, vlen;

	if (l[0] == ' ' || l[0] == '\t' || !colon || colon == l)
		return 400; /* obsolete line folding, or not a header */
	nlen = (size_t)(colon - l);
	if (memchr(l, ' ', nlen) || memchr(l, '\t', nlen))
		return 400;
	v = colon + 1;
	vlen = n - nlen - 1;
	trim(&v, &vlen);
	if (token_is(l, nlen, "connection"))
		parse_connection(v, vlen, rq);
	else if (token_is(l, nlen, "content-length"))
		return parse_length(v, vlen, rq);
	else if (token_is(l, nlen, "transfer-encoding"))
		return 501; /* no chunked bodies here */
	return 200;
}

static int parse_request_line(const char *l, size_t n, struct request *rq)
{
	const char *end = l + n, *sp1, *sp2, *ver;
	size_t vlen;

	sp1 = memchr(l, ' ', n);
	if (!sp1 || sp1 == l)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return 400;
	rq->method = l;
	rq->method_len = (size_t)(sp1 - l);
	rq->target = sp1 + 1;
	rq->target_len = (size_t)(sp2 - sp1 - 1);
	ver = sp2 + 1;
	vlen = (size_t)(end - ver);
	if (vlen == 8 && memcmp(ver, "HTTP/1.", 7) == 0 && (ver[7] == '0' || ver[7] == '1')) {
		rq->minor = ver[7] - '0';
		return 200;
	}
	return vlen > 5 && memcmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
}

/* Methods are case-sensitive, unlike header names. */
static bool method_is(const struct request *rq, const char *m)
{
	return strlen(m) == rq->method_len && memcmp(rq->method, m, rq->method_len) == 0;
}

/* Length of the line at p ending at the '\n' at eol, without a '\r'. */
static size_t line_len(const char *p, const char *eol)
{
	size_t n = (size_t)(eol - p);

	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/* Parses a complete header block (as measured by header_end). Returns an
 * HTTP status: 200 when the request is well formed. */
static int parse_request(const char *p, size_t len, struct request *rq)
{
	const char *end = p + len, *eol = memchr(p, '\n', len), *l;
	int st;

	memset(rq, 0, sizeof *rq);
	st = parse_request_line(p, line_len(p, eol), rq);
	for (l = eol + 1; st == 200 && l < end; l = eol + 1) {
		size_t n;

		eol = memchr(l, '\n', (size_t)(end - l));
		n = line_len(l, eol);
		if (n == 0)
			break;
		st = parse_header(l, n, rq);
	}
	if (st != 200)
		return st;
	if (rq->minor == 1)
		rq->keep_alive = !rq->conn_close;
	else
		rq->keep_alive = rq->conn_keep && !rq->conn_close;
	rq->head = method_is(rq, "HEAD");
	return st;
}

/* The ms=N parameter of a query string, -1 when missing or bad. */
static long query_ms(const char *q, size_t n)
{
	while (n > 0) {
		const char *amp = memchr(q, '&', n);
		size_t len = amp ? (size_t)(amp - q) : n;

		if (len > 3 && len <= 9 && memcmp(q, "ms=", 3) == 0) {
			long v = 0;
			size_t i;

			for (i = 3; i < len && q[i] >= '0' && q[i] <= '9'; i++)
				v = v * 10 + (q[i] - '0');
			return i == len && v <= SLOW_MAX_MS ? v : -1;
		}
		q += len;
		n -= len;
		if (amp) {
			q++;
			n--;
		}
	}
	return -1;
}

/* ---- responses ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* Queues one response. While draining every response closes the
 * connection, so the client learns to go elsewhere for the next request. */
static void respond(struct conn *c, int status, const char *body, size_t len, bool head, bool keep)
{
	char hdr[512];
	bool close = !keep || draining;
	int n;

	n = snprintf(hdr, sizeof hdr,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Segue-Generation: %s\r\n"
		     "X-Segue-Worker: %s\r\n"
		     "X-Pid: %s\r\n"
		     "%s"
		     "Connection: %s\r\n\r\n",
		     status, reason(status), len, ident_gen, ident_worker, ident_pid,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "", close ? "close" : "keep-alive");
	out_append(c, hdr, (size_t)n);
	if (!head)
		out_append(c, body, len);
	c->served++;
	if (close)
		c->state = C_CLOSING;
}

static void reject(struct conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));

	c->in_len = 0; /* the stream cannot be trusted past this */
	respond(c, status, body, (size_t)n, false, false);
}

static void start_slow(struct conn *c, const struct request *rq, const char *query, size_t qlen)
{
	long ms = query_ms(query, qlen);

	if (ms < 0) {
		static const char body[] = "usage: /slow?ms=N (N <= 600000)\n";

		respond(c, 400, body, sizeof body - 1, rq->head, rq->keep_alive);
		return;
	}
	c->state = C_SLOW;
	c->slow_head = rq->head;
	c->slow_keep = rq->keep_alive;
	set_deadline(c, now_ms() + ms);
}

/* A release is made unhealthy by a file named "unhealthy" in the
 * directory the worker runs in (its release, under segue). */
static void health(struct conn *c, const struct request *rq)
{
	static const char ok[] = "ok\n", bad[] = "unhealthy\n";

	if (access("unhealthy", F_OK) == 0)
		respond(c, 503, bad, sizeof bad - 1, rq->head, rq->keep_alive);
	else
		respond(c, 200, ok, sizeof ok - 1, rq->head, rq->keep_alive);
}

static void route(struct conn *c, const struct request *rq)
{
	static const char nf[] = "not found\n", na[] = "method not allowed\n";
	const char *q = memchr(rq->target, '?', rq->target_len);
	size_t plen = q ? (size_t)(q - rq->target) : rq->target_len;
	size_t qlen = q ? rq->target_len - plen - 1 : 0;

	if (!rq->head && !method_is(rq, "GET"))
		respond(c, 405, na, sizeof na - 1, false, rq->keep_alive);
	else if (token_is(rq->target, plen, "/"))
		respond(c, 200, ident_body, ident_len, rq->head, rq->keep_alive);
	else if (plen == 4 && memcmp(rq->target, "/env", 4) == 0)
		respond(c, 200, env_body, env_len, rq->head, rq->keep_alive);
	else if (plen == 7 && memcmp(rq->target, "/health", 7) == 0)
		health(c, rq);
	else if (plen == 5 && memcmp(rq->target, "/slow", 5) == 0)
		start_slow(c, rq, q ? q + 1 : "", qlen);
	else
		respond(c, 404, nf, sizeof nf - 1, rq->head, rq->keep_alive);
}

/* ---- connections: the request pipeline ---- */

static void skip_body_and_blanks(struct conn *c)
{
	size_t n = c->discard < c->in_len ? (size_t)c->discard : c->in_len;

	c->discard -= n;
	if (c->discard == 0) /* blank lines may precede a request */
		while (n < c->in_len && (c->in[n] == '\r' || c->in[n] == '\n'))
			n++;
	consume(c, n);
}

/* Answers the request at the front of the input. Returns false when it is
 * not complete yet. */
static bool take_request(struct conn *c)
{
	size_t end = header_end(c->in, c->in_len < HEADER_MAX ? c->in_len : HEADER_MAX);
	struct request rq;
	int st;

	if (end == 0) {
		if (c->in_len < HEADER_MAX)
			return false;
		reject(c, 400); /* the contract says 400 for > 8 KiB */
		return true;
	}
	st = parse_request(c->in, end, &rq);
	if (st != 200) {
		reject(c, st);
		return true;
	}
	c->discard = rq.length;
	route(c, &rq); /* before consume(): rq points into c->in */
	consume(c, end);
	return true;
}

/* Answers the complete requests in the input, in order. Returns true when
 * it stopped only because too much output is waiting. */
static bool conn_process(struct conn *c)
{
	while (c->state == C_READ) {
		if (out_pending(c) >= OUT_HIGH)
			return true;
		skip_body_and_blanks(c);
		if (c->discard > 0 || c->in_len == 0 || !take_request(c))
			return false;
	}
	return false;
}

/* The last response is out: shut the write side and keep reading until
 * the client closes, so bytes it still sends (pipelined requests, a
 * request racing with our close) do not make the kernel answer with a
 * reset that would destroy the response before the client reads it. */
static bool conn_finish(struct conn *c)
{
	if (c->rd_eof || shutdown(c->fd, SHUT_WR) < 0) {
		conn_close(c); /* ENOTCONN: the client is gone already */
		return false;
	}
	c->state = C_LINGER;
	c->in_len = 0;
	set_deadline(c, now_ms() + LINGER_MS);
	return true;
}

/* An idle connection at drain gets a grace time for the request its
 * client may be sending right now: that one is answered, with
 * "Connection: close". Closing at once would race with it, and a client
 * that does not retry (wrk, many libraries for non-idempotent requests)
 * would count an error. Only a connection still idle after the grace is
 * closed. */
static bool drain_idle(struct conn *c)
{
	if (c->grace_over) {
		c->state = C_CLOSING;
		return conn_finish(c);
	}
	if (c->deadline == 0)
		set_deadline(c, now_ms() + FRESH_GRACE_MS);
	return true;
}

/* Decisions once the output is flushed. Returns false when closed. */
static bool conn_settle(struct conn *c)
{
	if (out_pending(c) > 0)
		return true;
	if (c->state == C_CLOSING)
		return conn_finish(c);
	if (c->state != C_READ)
		return true;
	if (c->rd_eof) {
		conn_close(c); /* nothing more can arrive */
		return false;
	}
	if (draining && c->in_len == 0 && c->discard == 0)
		return drain_idle(c);
	return true;
}

static void conn_update(struct conn *c)
{
	bool room = !c->rd_eof && c->in_len < IN_CAP;
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->state == C_LINGER)
		want = EPOLLIN;
	else if (c->state == C_SLOW && room)
		want = EPOLLIN;
	else if (c->state == C_READ && room && out_pending(c) < OUT_HIGH)
		want = EPOLLIN;
	if (out_pending(c) > 0)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		syswarn("epoll_ctl connection fd %d", c->fd);
		conn_close(c);
		return;
	}
	c->events = want;
}

static void conn_step(struct conn *c)
{
	bool backlog;

	do {
		backlog = conn_process(c);
		if (!conn_flush(c))
			return;
	} while (backlog && out_pending(c) < OUT_HIGH);
	if (conn_settle(c))
		conn_update(c);
}

static void linger_read(struct conn *c)
{
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof buf, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_close(c);
}

static void conn_event(struct conn *c, uint32_t ev)
{
	if (c->state == C_DEAD)
		return;
	/* HUP: both directions are shut (reset, or the client's FIN after
	 * ours): nothing can be delivered any more */
	if (ev & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if (c->state == C_LINGER) {
		linger_read(c);
		return;
	}
	if ((ev & EPOLLIN) && !conn_read(c))
		return;
	conn_step(c);
}

static void conn_timeout(struct conn *c)
{
	set_deadline(c, 0);
	switch (c->state) {
	case C_SLOW:
		c->state = C_READ;
		respond(c, 200, ident_body, ident_len, c->slow_head, c->slow_keep);
		break;
	case C_LINGER:
		conn_close(c);
		return;
	case C_READ:
		c->grace_over = true;
		break;
	default:
		break;
	}
	conn_step(c);
}

/* ---- drain ---- */

static void drain_begin(int signo)
{
	draining = true;
	drain_deadline = now_ms() + opt.drain_timeout_ms;
	msg("%s: draining %zu connections", signo ? strsignal(signo) : "--exit-after", nconns);
	notify("STOPPING=1\nSTATUS=draining");
	listeners_close();
	for (struct conn *c = conns, *next; c; c = next) {
		next = c->next;
		/* a request may have arrived since the last poll: read it
		 * first, so only really idle connections are closed */
		if (c->state == C_READ && conn_read(c))
			conn_step(c);
	}
}

static void on_signal(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(sigw.fd, &si, sizeof si)) != -1 || errno == EINTR) {
		if (n != (ssize_t)sizeof si)
			continue;
		if (draining)
			die(1, "%s again: exiting now with %zu connections open",
			    strsignal((int)si.ssi_signo), nconns);
		drain_begin((int)si.ssi_signo);
	}
	if (errno != EAGAIN)
		sysdie("read signalfd");
}

/* ---- the loop ---- */

static int64_t exit_at; /* --exit-after's moment, or 0 */
static int exit_status; /* once drained */

static int next_timeout(void)
{
	int64_t next = INT64_MAX, d;

	if (exit_at)
		next = exit_at;
	if (draining && drain_deadline < next)
		next = drain_deadline;
	if (accept_resume_at && accept_resume_at < next)
		next = accept_resume_at;
	if (ndeadlines > 0)
		for (struct conn *c = conns; c; c = c->next)
			if (c->deadline && c->deadline < next)
				next = c->deadline;
	if (next == INT64_MAX)
		return -1;
	d = next - now_ms();
	return d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

static void run_timers(void)
{
	int64_t now = now_ms();

	if (draining && now >= drain_deadline)
		die(1, "drain timeout: exiting with %zu connections open", nconns);
	if (exit_at && now >= exit_at && !draining) {
		/* a crash that loses no request: drain, then exit 1 */
		exit_at = 0;
		exit_status = 1;
		drain_begin(0);
	}
	if (accept_resume_at && now >= accept_resume_at && !draining) {
		accept_resume_at = 0;
		listeners_watch(true);
	}
	if (ndeadlines == 0)
		return;
	for (struct conn *c = conns, *next; c; c = next) {
		next = c->next;
		if (c->deadline && c->deadline <= now)
			conn_timeout(c);
	}
}

static void dispatch(const struct epoll_event *ev)
{
	enum kind *k = ev->data.ptr;

	switch (*k) {
	case K_SIGNAL:
		on_signal();
		break;
	case K_LISTENER:
		if (listening) /* not paused or closed earlier in this batch */
			accept_one((struct listener *)k);
		break;
	case K_CONN:
		conn_event((struct conn *)k, ev->events);
		break;
	}
}

static void serve(void)
{
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(epfd, evs, MAX_EVENTS, next_timeout());

		if (n < 0 && errno != EINTR)
			sysdie("epoll_wait");
		for (int i = 0; i < n; i++)
			dispatch(&evs[i]);
		run_timers();
		bury_dead();
		if (draining && nconns == 0) {
			msg("drained, exiting with status %d", exit_status);
			exit(exit_status);
		}
	}
}

/* A slow boot: only signals are watched, so TERM still stops us. */
static void startup_delay(long ms)
{
	int64_t until = now_ms() + ms, left;
	struct epoll_event ev;

	while (!draining && (left = until - now_ms()) > 0) {
		int n = epoll_wait(epfd, &ev, 1, left > INT_MAX ? INT_MAX : (int)left);

		if (n < 0 && errno != EINTR)
			sysdie("epoll_wait");
		if (n > 0)
			on_signal();
	}
	if (draining)
		exit(0);
}

int main(int argc, char **argv)
{
	/* One write per line: stderr is often segue's own log file, and a
	 * line written in pieces could have a line of segue's land inside it
	 * (segue.conf(5), stdout). */
	if (setvbuf(stderr, NULL, _IOLBF, 0) != 0)
		die(1, "setvbuf");
	parse_args(argc, argv);
	ident_init();
	env_snapshot();
	take_sockets();
	signals_init();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		sysdie("epoll_create1");
	watch(sigw.fd, EPOLLIN, &sigw);
	startup_delay(opt.startup_delay_ms);
	listeners_watch(true);
	notify("READY=1\nSTATUS=serving");
	if (opt.exit_after_ms)
		exit_at = now_ms() + opt.exit_after_ms;
	if (opt.ready_file)
		touch(opt.ready_file);
	msg("generation %s worker %s serving on %d socket%s", ident_gen, ident_worker, nlisteners,
	    nlisteners == 1 ? "" : "s");
	serve();
}
