/* fakesystemd.c: plays systemd for tests: notify socket log, fd store, socket activation, restarts.
 */
/* SPDX-License-Identifier: MIT */
/*
 * usage: fakesystemd [--listen NAME=HOST:PORT]... [--kill-mode MODE] STATEDIR -- COMMAND [ARG...]
 *
 * Runs COMMAND with NOTIFY_SOCKET=STATEDIR/notify.sock (and WATCHDOG_PID when
 * WATCHDOG_USEC is set) and appends each datagram received there to
 * STATEDIR/notify.log as "T_MS PID TEXT", newlines shown as '|'. Lines of its
 * own start "T_MS PID # ". At each start the --listen sockets (as from a
 * .socket unit) and then the fd store are passed as fds 3.. with
 * LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES.
 *
 * The fd store works as systemd's (src/core/service.c): FDSTORE=1 keeps the
 * attached fds under FDNAME ("stored" when none), the newest first; an fd
 * for a file already stored (same device and inode) is dropped as a
 * duplicate; names need not be unique, and FDSTOREREMOVE=1 drops every fd of
 * that name. fds sent without FDSTORE=1 are closed.
 *
 * SIGUSR1: SIGKILL the child and start it again (a crash and Restart=).
 * SIGUSR2: TERM the child, wait, start it again (systemctl restart).
 * Before the new start, the processes the child left behind (reparented
 * here: fakesystemd is a child subreaper) are dealt with as KillMode= says:
 * "process" (the default) leaves them running; "mixed" sends each one's
 * process group KILL; "control-group" sends TERM, then KILL after 5 s. The
 * child starts again once none is left. (systemd signals the whole cgroup
 * at once in control-group mode; here the leftovers come after the child.)
 * SIGTERM, SIGINT: forwarded to the child; exits with its status.
 * The child exiting by itself: fakesystemd exits with its status.
 * Each exit is written to STATEDIR/exit.N (N = 1, 2, ... per start) as
 * "exit=CODE" or "signal=SIG". STATEDIR/pid holds fakesystemd's pid,
 * STATEDIR/child the current child's.
 *
 * The child gets SIGKILL if fakesystemd itself dies, so nothing outlives a
 * test.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAX	64 /* fds kept at once */
#define MSG_FDS_MAX	64 /* fds accepted in one datagram */
#define DGRAM_MAX	65536
#define FDNAME_MAX	255 /* as systemd's fdname_is_valid() */
#define PID_DIGITS	24
#define STOP_TIMEOUT_MS 5000 /* TERM to leftovers, then KILL (TimeoutStopSec) */

struct stored {
	char *name;
	int fd;
	bool socket_unit; /* from --listen: first, and never removed */
};

static struct {
	const char *dir;
	char *sock_path;
	char **argv;
	int notify_fd, sig_fd, log_fd;
	struct stored store[STORE_MAX];
	size_t nstore;
	pid_t child;
	unsigned starts;
	int last_status;
	enum { KM_PROCESS, KM_MIXED, KM_CGROUP } kill_mode;
	bool restarting;	  /* the child was killed to be started again */
	bool cleaning;		  /* waiting for its leftovers to exit */
	long long clean_deadline; /* ms; -1 once they were sent KILL */
	bool terminating;
} fs = {.notify_fd = -1, .sig_fd = -1, .log_fd = -1, .child = -1};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void sysdie(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- errors and files ----------------------------------------------------- */

static void vreport(int err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vreport(int err, const char *fmt, va_list ap)
{
	fputs("fakesystemd: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	exit(1);
}

static void sysdie(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport(err, fmt, ap);
	va_end(ap);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	return s;
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			sysdie("writing %s", what);
		buf += n;
		len -= (size_t)n;
	}
}

/* Writes STATEDIR/NAME whole (through a rename), so a reader never sees it
 * half written. */
static void write_state(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void write_state(const char *name, const char *fmt, ...)
{
	char *path = xasprintf("%s/%s", fs.dir, name);
	char *tmp = xasprintf("%s/.%s.tmp", fs.dir, name);
	char *text;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		sysdie("%s", tmp);
	write_all(fd, text, strlen(text), tmp);
	if (close(fd) < 0)
		sysdie("closing %s", tmp);
	if (rename(tmp, path) < 0)
		sysdie("renaming %s to %s", tmp, path);
	free(text);
	free(tmp);
	free(path);
}

/* --- notify.log ----------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		sysdie("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends "T_MS PID TEXT\n" in one write; newlines become '|', other
 * unprintable bytes '?', trailing newlines are dropped. */
static void log_line(pid_t pid, const char *text, size_t len)
{
	while (len > 0 && text[len - 1] == '\n')
		len--;
	char head[64];
	int hlen = snprintf(head, sizeof(head), "%lld %ld ", now_ms(), (long)pid);
	char *line = xmalloc((size_t)hlen + len + 2);
	memcpy(line, head, (size_t)hlen);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		line[(size_t)hlen + i] = c == '\n' ? '|' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	line[(size_t)hlen + len] = '\n';
	write_all(fs.log_fd, line, (size_t)hlen + len + 1, "notify.log");
	free(line);
}

/* A line of fakesystemd's own: "T_MS PID # TEXT". */
static void note(const char *fmt, ...)
{
	char *text, *line;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	line = xasprintf("# %s", text);
	log_line(getpid(), line, strlen(line));
	free(line);
	free(text);
}

/* --- the fd store ---------------------------------------------------------- */

static void close_checked(int fd)
{
	if (close(fd) < 0 && errno != EINTR)
		sysdie("close(%d)", fd);
}

static int store_remove(const char *name)
{
	int removed = 0;
	size_t j = 0;
	for (size_t i = 0; i < fs.nstore; i++) {
		if (!fs.store[i].socket_unit && strcmp(fs.store[i].name, name) == 0) {
			close_checked(fs.store[i].fd);
			free(fs.store[i].name);
			removed++;
		} else {
			fs.store[j++] = fs.store[i];
		}
	}
	fs.nstore = j;
	return removed;
}

/* Whether fd refers to a file already in the store. */
static bool store_has_file(int fd)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0)
		sysdie("fstat(%d)", fd);
	for (size_t i = 0; i < fs.nstore; i++) {
		if (fstat(fs.store[i].fd, &b) < 0)
			sysdie("fstat(%d)", fs.store[i].fd);
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	}
	return false;
}

/* Adds fd (taking it): a socket unit's after the others of its kind, a
 * stored one before the other stored ones, as systemd's list prepend does.
 * Returns false when it was closed instead (a duplicate, or no room). */
static bool store_add(const char *name, int fd, bool socket_unit)
{
	if (fs.nstore == STORE_MAX || store_has_file(fd)) {
		close_checked(fd);
		return false;
	}
	size_t at = 0;
	while (at < fs.nstore && fs.store[at].socket_unit)
		at++;
	if (socket_unit)
		at = fs.nstore;
	memmove(&fs.store[at + 1], &fs.store[at], (fs.nstore - at) * sizeof(fs.store[0]));
	fs.store[at] =
	    (struct stored){.name = xasprintf("%s", name), .fd = fd, .socket_unit = socket_unit};
	fs.nstore++;
	return true;
}

/* The names in the store joined by ':' (LISTEN_FDNAMES). */
static char *store_names(void)
{
	size_t len = 1;
	for (size_t i = 0; i < fs.nstore; i++)
		len += strlen(fs.store[i].name) + 1;
	char *s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < fs.nstore; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, fs.store[i].name);
	}
	return s;
}

/* --- sockets ---------------------------------------------------------------- */

static void open_notify(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(fs.sock_path) >= sizeof(sun.sun_path))
		die("%s: path too long for a unix socket", fs.sock_path);
	strcpy(sun.sun_path, fs.sock_path);
	if (unlink(fs.sock_path) < 0 && errno != ENOENT)
		sysdie("unlink %s", fs.sock_path);
	fs.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fs.notify_fd < 0)
		sysdie("socket");
	int one = 1;
	if (setsockopt(fs.notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		sysdie("SO_PASSCRED");
	if (bind(fs.notify_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		sysdie("bind %s", fs.sock_path);
}

/* --listen NAME=HOST:PORT (IPv4): a listening TCP socket put in the store. */
static void add_listen(const char *spec)
{
	const char *eq = strchr(spec, '=');
	const char *colon = strrchr(spec, ':');
	if (!eq || eq == spec || !colon || colon < eq || (size_t)(eq - spec) > FDNAME_MAX)
		die("--listen %s: want NAME=HOST:PORT", spec);
	char *name = xasprintf("%.*s", (int)(eq - spec), spec);
	char *host = xasprintf("%.*s", (int)(colon - eq - 1), eq + 1);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (*end || end == colon + 1 || port < 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("--listen %s: bad IPv4 address", spec);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		sysdie("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		sysdie("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, SOMAXCONN) < 0)
		sysdie("--listen %s", spec);
	if (!store_add(name, fd, true))
		die("--listen %s: a duplicate, or too many sockets", spec);
	free(host);
	free(name);
}

static void open_signals(void)
{
	sigset_t set;
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGCHLD) < 0 || sigaddset(&set, SIGUSR1) < 0 ||
	    sigaddset(&set, SIGUSR2) < 0 || sigaddset(&set, SIGTERM) < 0 ||
	    sigaddset(&set, SIGINT) < 0)
		sysdie("sigset");
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		sysdie("sigprocmask");
	fs.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fs.sig_fd < 0)
		sysdie("signalfd");
}

/* --- datagrams ------------------------------------------------------------- */

/* The value of KEY= on a line of the datagram, or NULL; *vlen is its length. */
static const char *find_field(const char *buf, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if ((size_t)(eol - p) >= klen && memcmp(p, key, klen) == 0) {
			*vlen = (size_t)(eol - p - (ptrdiff_t)klen);
			return p + klen;
		}
		p = eol + 1;
	}
	return NULL;
}

static bool has_line(const char *buf, size_t len, const char *line)
{
	size_t vlen;
	return find_field(buf, len, line, &vlen) && vlen == 0;
}

/* systemd's rule: printable ASCII without ':', 1..255 bytes. */
static bool fdname_ok(const char *v, size_t len)
{
	if (len == 0 || len > FDNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ':')
			return false;
	return true;
}

static char *fdname_of(const char *buf, size_t len)
{
	size_t vlen;
	const char *v = find_field(buf, len, "FDNAME=", &vlen);
	if (!v)
		return xasprintf("stored"); /* systemd's default name */
	if (!fdname_ok(v, vlen))
		return NULL;
	return xasprintf("%.*s", (int)vlen, v);
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close_checked(fds[i]);
}

static void handle_store(const char *buf, size_t len, const int *fds, size_t nfds)
{
	char *name = fdname_of(buf, len);
	if (!name) {
		note("bad FDNAME: closing %zu fds", nfds);
		close_fds(fds, nfds);
		return;
	}
	size_t added = 0;
	for (size_t i = 0; i < nfds; i++)
		added += store_add(name, fds[i], false);
	char *names = store_names();
	note("stored %zu fd(s) as \"%s\"%s; passed at a start: %s", added, name,
	     added < nfds ? " (duplicates or no room: closed the others)" : "",
	     *names ? names : "none");
	free(names);
	free(name);
}

static void handle_remove(const char *buf, size_t len)
{
	char *name = fdname_of(buf, len);
	if (!name) {
		note("FDSTOREREMOVE with a bad FDNAME");
		return;
	}
	int removed = store_remove(name);
	char *names = store_names();
	note("removed %d fd(s) named \"%s\"; passed at a start: %s", removed, name,
	     *names ? names : "none");
	free(names);
	free(name);
}

static void handle_message(pid_t pid, const char *buf, size_t len, const int *fds, size_t nfds)
{
	log_line(pid, buf, len);
	if (has_line(buf, len, "FDSTORE=1") && nfds > 0)
		handle_store(buf, len, fds, nfds);
	else if (nfds > 0) {
		note("closing %zu fd(s) sent without FDSTORE=1", nfds);
		close_fds(fds, nfds);
	}
	if (has_line(buf, len, "FDSTOREREMOVE=1"))
		handle_remove(buf, len);
}

/* Walks the control messages: the sender's pid and any fds. */
static pid_t parse_cmsgs(struct msghdr *mh, int *fds, size_t *nfds)
{
	pid_t pid = 0;
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			pid = cred.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *nfds, CMSG_DATA(c), n * sizeof(int));
			*nfds += n;
		}
	}
	return pid;
}

/* Receives and handles one datagram; false when none is waiting. */
static bool receive_one(void)
{
	static char buf[DGRAM_MAX];
	union {
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(MSG_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	ssize_t n = recvmsg(fs.notify_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return errno == EINTR;
	if (n < 0)
		sysdie("recvmsg");
	int fds[MSG_FDS_MAX];
	size_t nfds;
	pid_t pid = parse_cmsgs(&mh, fds, &nfds);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		note("datagram from %ld truncated (flags 0x%x)", (long)pid, (unsigned)mh.msg_flags);
	handle_message(pid, buf, (size_t)n, fds, nfds);
	return true;
}

static void drain_notify(void)
{
	while (receive_one())
		;
}

/* --- the child ------------------------------------------------------------- */

/* The environment, built before the fork; the child only writes its pid
 * into the slots (no allocation between fork and exec). */
struct child_env {
	char **envp;
	char *listen_pid;   /* "LISTEN_PID=" + digits, or NULL */
	char *watchdog_pid; /* "WATCHDOG_PID=" + digits, or NULL */
};

static bool dropped_var(const char *e)
{
	static const char *const drop[] = {
	    "NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "WATCHDOG_PID="};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (strncmp(e, drop[i], strlen(drop[i])) == 0)
			return true;
	return false;
}

static char *pid_slot(const char *var)
{
	char *s = xmalloc(strlen(var) + 1 + PID_DIGITS);
	strcpy(s, var);
	strcat(s, "=");
	return s;
}

static struct child_env build_env(void)
{
	extern char **environ;
	struct child_env ce = {0};
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	ce.envp = xmalloc((n + 6) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (!dropped_var(environ[i]))
			ce.envp[k++] = environ[i];
	ce.envp[k++] = xasprintf("NOTIFY_SOCKET=%s", fs.sock_path);
	if (getenv("WATCHDOG_USEC"))
		ce.envp[k++] = ce.watchdog_pid = pid_slot("WATCHDOG_PID");
	if (fs.nstore > 0) {
		char *names = store_names();
		ce.envp[k++] = xasprintf("LISTEN_FDS=%zu", fs.nstore);
		ce.envp[k++] = xasprintf("LISTEN_FDNAMES=%s", names);
		ce.envp[k++] = ce.listen_pid = pid_slot("LISTEN_PID");
		free(names);
	}
	ce.envp[k] = NULL;
	return ce;
}

static void free_env(struct child_env *ce)
{
	for (char **e = ce->envp; *e; e++)
		if (dropped_var(*e))
			free(*e); /* ours: the others belong to environ */
	free(ce->envp);
}

static void child_fail(const char *what)
{
	int err = errno;
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "fakesystemd: child: %s: %s\n", what, strerror(err));
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		_exit(127);
	_exit(127);
}

static void put_pid(char *slot)
{
	char digits[PID_DIGITS];
	size_t n = 0;
	for (unsigned long v = (unsigned long)getpid(); v || n == 0; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	slot += strlen(slot);
	while (n > 0)
		*slot++ = digits[--n];
	*slot = '\0';
}

/* Moves the store to fds 3.. (inheritable) and closes every other fd. */
static void child_fds(void)
{
	int high[STORE_MAX];
	int first_free = 3 + (int)fs.nstore;
	for (size_t i = 0; i < fs.nstore; i++)
		if ((high[i] = fcntl(fs.store[i].fd, F_DUPFD_CLOEXEC, first_free)) < 0)
			child_fail("F_DUPFD");
	for (size_t i = 0; i < fs.nstore; i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			child_fail("dup2");
	if (close_range((unsigned)first_free, ~0U, 0) < 0)
		child_fail("close_range");
}

static void child_run(struct child_env *ce, pid_t parent)
{
	sigset_t none;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("PR_SET_PDEATHSIG");
	if (getppid() != parent)
		_exit(127);
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail("sigprocmask");
	if (setsid() < 0)
		child_fail("setsid");
	child_fds();
	if (ce->listen_pid)
		put_pid(ce->listen_pid);
	if (ce->watchdog_pid)
		put_pid(ce->watchdog_pid);
	execvpe(fs.argv[0], fs.argv, ce->envp);
	child_fail(fs.argv[0]);
}

static void spawn(void)
{
	struct child_env ce = build_env();
	char *names = store_names();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		sysdie("fork");
	if (pid == 0)
		child_run(&ce, parent);
	fs.child = pid;
	fs.starts++;
	write_state("child", "%ld\n", (long)pid);
	note("start %u: pid %ld, fds: %s", fs.starts, (long)pid, *names ? names : "none");
	free(names);
	free_env(&ce);
}

/* --- leftovers of a killed child (--kill-mode control-group) ------------------ */

/* The parent pid in /proc/PID/stat, or -1 (the process is gone). */
static long ppid_of(const char *pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (close(fd) < 0 || n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	long ppid;
	if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return ppid;
}

/* Sends sig to each child of ours (and its process group); how many. */
static int signal_children(int sig)
{
	DIR *d = opendir("/proc");
	if (!d)
		sysdie("/proc");
	int n = 0;
	long self = (long)getpid();
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || ppid_of(e->d_name) != self)
			continue;
		pid_t pid = (pid_t)atol(e->d_name);
		if (kill(-pid, sig) < 0 && kill(pid, sig) < 0 && errno != ESRCH)
			sysdie("kill %ld", (long)pid);
		n++;
	}
	if (closedir(d) < 0)
		sysdie("closedir /proc");
	return n;
}

static void spawn_again(void)
{
	fs.cleaning = false;
	if (fs.terminating)
		exit(WIFEXITED(fs.last_status) ? WEXITSTATUS(fs.last_status)
					       : 128 + WTERMSIG(fs.last_status));
	spawn();
}

/* The main process is gone: stop what it left as KillMode= says, then
 * start it again. */
static void clean_up_then_spawn(void)
{
	if (fs.kill_mode == KM_PROCESS) {
		spawn_again();
		return;
	}
	int sig = fs.kill_mode == KM_MIXED ? SIGKILL : SIGTERM;
	int n = signal_children(sig);
	if (n == 0) {
		spawn_again();
		return;
	}
	note("%s to %d process(es) left behind", sig == SIGKILL ? "KILL" : "TERM", n);
	fs.cleaning = true;
	fs.clean_deadline = sig == SIGKILL ? -1 : now_ms() + STOP_TIMEOUT_MS;
}

static void clean_up_timeout(void)
{
	note("leftovers still alive after %d ms: KILL", STOP_TIMEOUT_MS);
	signal_children(SIGKILL);
	fs.clean_deadline = -1;
}

/* --- signals and exits ------------------------------------------------------ */

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void child_exited(int status)
{
	char name[32];
	snprintf(name, sizeof(name), "exit.%u", fs.starts);
	drain_notify(); /* its last words, an FDSTORE=1 among them, come first */
	if (WIFEXITED(status))
		write_state(name, "exit=%d\n", WEXITSTATUS(status));
	else
		write_state(name, "signal=%d\n", WTERMSIG(status));
	note("child %ld: %s %d", (long)fs.child, WIFEXITED(status) ? "exit" : "signal",
	     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	fs.child = -1;
	fs.last_status = status;
	if (fs.restarting && !fs.terminating) {
		fs.restarting = false;
		clean_up_then_spawn();
		return;
	}
	exit(exit_code(status));
}

static void reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == ECHILD) {
			if (fs.cleaning) {
				note("nothing left behind");
				spawn_again();
			}
			return;
		}
		if (pid < 0)
			sysdie("waitpid");
		if (pid == 0)
			return;
		if (pid == fs.child)
			child_exited(status);
		else
			note("reaped orphan %ld (status %d)", (long)pid, exit_code(status));
	}
}

static void on_signal(int signo)
{
	if (signo == SIGCHLD) {
		reap();
	} else if ((signo == SIGUSR1 || signo == SIGUSR2) && fs.child > 0 && !fs.restarting &&
		   !fs.terminating) {
		int sig = signo == SIGUSR1 ? SIGKILL : SIGTERM;
		note("%s: %s to %ld, then start it again", signo == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
		     sig == SIGKILL ? "KILL" : "TERM", (long)fs.child);
		fs.restarting = true;
		if (kill(fs.child, sig) < 0)
			sysdie("kill %ld", (long)fs.child);
	} else if ((signo == SIGTERM || signo == SIGINT) && fs.child > 0) {
		note("%s: forwarding TERM to %ld", signo == SIGTERM ? "SIGTERM" : "SIGINT",
		     (long)fs.child);
		fs.terminating = true;
		if (kill(fs.child, SIGTERM) < 0)
			sysdie("kill %ld", (long)fs.child);
	} else if (signo == SIGTERM || signo == SIGINT) {
		fs.terminating = true; /* between two starts: exit once it is clean */
	}
}

static void read_signals(void)
{
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t n = read(fs.sig_fd, &si, sizeof(si));
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			sysdie("reading signalfd");
		on_signal((int)si.ssi_signo);
	}
}

/* --- main -------------------------------------------------------------------- */

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: fakesystemd [--listen NAME=HOST:PORT]... [--kill-mode MODE]\n"
	      "                   STATEDIR -- COMMAND [ARG...]\n"
	      "MODE: process (default), mixed or control-group\n",
	      stderr);
	exit(2);
}

static int kill_mode_named(const char *s)
{
	if (strcmp(s, "process") == 0)
		return KM_PROCESS;
	if (strcmp(s, "mixed") == 0)
		return KM_MIXED;
	if (strcmp(s, "control-group") == 0)
		return KM_CGROUP;
	usage();
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
					     {"kill-mode", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+l:k:", opts, NULL)) != -1) {
		if (c == 'l')
			add_listen(optarg);
		else if (c == 'k')
			fs.kill_mode = kill_mode_named(optarg);
		else
			usage();
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
		usage();
	fs.dir = argv[optind];
	fs.argv = argv + optind + 2;
}

static void loop(void)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = fs.notify_fd, .events = POLLIN},
				      {.fd = fs.sig_fd, .events = POLLIN}};
		int timeout = -1;
		if (fs.cleaning && fs.clean_deadline >= 0) {
			long long left = fs.clean_deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		int n = poll(p, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			sysdie("poll");
		if (n == 0) {
			clean_up_timeout();
			continue;
		}
		if (p[0].revents)
			drain_notify();
		if (p[1].revents)
			read_signals();
	}
}

int main(int argc, char **argv)
{
	/* one write per line: stderr is often the test's segue log, which
	 * segue writes to as well, a line at a time */
	if (setvbuf(stderr, NULL, _IOLBF, 0) != 0)
		die("setvbuf");
	parse_args(argc, argv);
	fs.sock_path = xasprintf("%s/notify.sock", fs.dir);
	char *log_path = xasprintf("%s/notify.log", fs.dir);
	fs.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fs.log_fd < 0)
		sysdie("%s", log_path);
	free(log_path);
	open_notify();
	open_signals();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		sysdie("PR_SET_CHILD_SUBREAPER");
	write_state("pid", "%ld\n", (long)getpid());
	spawn();
	loop();
}
