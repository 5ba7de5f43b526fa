/* probe.c: a worker for the tests that writes down everything it inherited, then waits for TERM. */
/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 1024

struct fdinfo {
	int fd;
	char target[PATH_MAX];
};

static struct fdinfo fds[MAX_FDS];
static int nfds;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "probe[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Values are written one per line: a newline inside one becomes "\n". */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

/* Lists the open fds first, before anything else opens one. The fd that
 * reads the directory is left out. */
static void collect_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		die("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char link[64];
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d) || nfds == MAX_FDS)
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, fds[nfds].target, sizeof fds[nfds].target - 1);
		if (n < 0)
			die("readlink %s: %s", link, strerror(errno));
		fds[nfds].target[n] = '\0';
		fds[nfds++].fd = fd;
	}
	if (closedir(d) < 0)
		die("closedir: %s", strerror(errno));
}

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct fdinfo *)a)->fd - ((const struct fdinfo *)b)->fd;
}

static void put_ids(FILE *f)
{
	gid_t groups[NGROUPS_MAX];
	char cwd[PATH_MAX];
	int n = getgroups(NGROUPS_MAX, groups);

	if (n < 0)
		die("getgroups: %s", strerror(errno));
	if (!getcwd(cwd, sizeof cwd))
		die("getcwd: %s", strerror(errno));
	fprintf(f, "pid=%d\nppid=%d\npgid=%d\n", (int)getpid(), (int)getppid(), (int)getpgrp());
	fputs("cwd=", f);
	put_escaped(f, cwd);
	fprintf(f, "uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", (unsigned)groups[i]);
	fputc('\n', f);
}

/* The socket's own address in segue's address syntax. */
static void sock_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *su = (struct sockaddr_un *)&ss;
	socklen_t sl = sizeof ss;
	char ip[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(buf, len, "error:%s", strerror(errno));
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		size_t n = sl - offsetof(struct sockaddr_un, sun_path);

		if (sl <= offsetof(struct sockaddr_un, sun_path))
			snprintf(buf, len, "unix:"); /* unnamed */
		else if (su->sun_path[0] == '\0')    /* abstract */
			snprintf(buf, len, "unix:@%.*s", (int)n - 1, su->sun_path + 1);
		else
			snprintf(buf, len, "unix:%s", su->sun_path);
	} else {
		snprintf(buf, len, "family:%d", ss.ss_family);
	}
}

static void put_fds(FILE *f)
{
	for (int i = 0; i < nfds; i++)
		fprintf(f, "fd=%d %s\n", fds[i].fd, fds[i].target);
	for (int i = 0; i < nfds; i++) {
		int fd = fds[i].fd, fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);

		if (fd < 3)
			continue;
		if (fl < 0 || fdf < 0)
			die("fcntl %d: %s", fd, strerror(errno));
		fprintf(f, "fdflags=%d nonblock=%d cloexec=%d\n", fd, !!(fl & O_NONBLOCK),
			!!(fdf & FD_CLOEXEC));
	}
}

static void put_sockets(FILE *f)
{
	for (int i = 0; i < nfds; i++) {
		int fd = fds[i].fd, acc = 0;
		socklen_t len = sizeof acc;
		char addr[160];
		struct stat sb;

		if (fstat(fd, &sb) < 0)
			die("fstat %d: %s", fd, strerror(errno));
		if (!S_ISSOCK(sb.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0)
			acc = 0; /* not every family answers */
		sock_text(fd, addr, sizeof addr);
		fprintf(f, "sock=%d %s listening=%d\n", fd, addr, !!acc);
	}
}

/* inherited: the mask as it was before main() blocked TERM */
static void put_signals(FILE *f, const sigset_t *inherited)
{
	unsigned long long mask = 0;
	bool first = true;

	for (int sig = 1; sig <= SIGRTMAX && sig <= 64; sig++)
		if (sigismember(inherited, sig) == 1)
			mask |= 1ULL << (sig - 1);
	fprintf(f, "sigmask=%016llx sigign=", mask); /* as SigBlk in /proc */
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		struct sigaction sa;

		/* glibc reserves a few real-time signals: EINVAL, skip */
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
			fprintf(f, "%s%d", first ? "" : ",", sig);
			first = false;
		}
	}
	fputc('\n', f);
}

static void put_env_args(FILE *f, int argc, char **argv)
{
	extern char **environ;

	for (char **e = environ; *e; e++) {
		fputs("env ", f);
		put_escaped(f, *e);
	}
	fprintf(f, "argc=%d\n", argc);
	for (int i = 0; i < argc; i++) {
		fputs("arg=", f);
		put_escaped(f, argv[i]);
	}
}

/* Writes the report under a temporary name, then renames it, so a test
 * polling for probe.<pid> never reads half a file. */
static void write_report(const char *dir, const char *text, size_t len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof tmp, "%s/.probe.%d.tmp", dir, (int)getpid());
	snprintf(final, sizeof final, "%s/probe.%d", dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", tmp, strerror(errno));
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			die("write %s: %s", tmp, strerror(errno));
		if (n > 0)
			off += (size_t)n;
	}
	if (close(fd) < 0)
		die("close %s: %s", tmp, strerror(errno));
	if (rename(tmp, final) < 0)
		die("rename %s: %s", final, strerror(errno));
}

static void report(const char *dir, int argc, char **argv, const sigset_t *mask)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	collect_fds();
	qsort(fds, (size_t)nfds, sizeof fds[0], cmp_fd);
	f = open_memstream(&text, &len); /* uses no descriptor */
	if (!f)
		die("open_memstream: %s", strerror(errno));
	put_ids(f);
	put_fds(f);
	put_sockets(f);
	put_signals(f, mask);
	put_env_args(f, argc, argv);
	if (fclose(f) == EOF)
		die("report: %s", strerror(errno));
	write_report(dir, text, len);
	free(text);
}

/* READY=1 as sd_notify(3) sends it; '@' names an abstract socket. */
static void notify_ready(const char *path)
{
	static const char msg[] = "READY=1";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	socklen_t len;
	int fd;

	if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof sa.sun_path)
		die("bad NOTIFY_SOCKET \"%s\"", path);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (sendto(fd, msg, sizeof msg - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		die("notify %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		die("close: %s", strerror(errno));
}

static bool env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && strcmp(v, value) == 0;
}

/* TERM is blocked from the start, so one sent as soon as the report
 * appears cannot kill us, and is then taken synchronously. */
static void block_term(sigset_t *set, sigset_t *inherited)
{
	if (sigemptyset(set) < 0 || sigaddset(set, SIGTERM) < 0)
		die("sigset: %s", strerror(errno));
	if (sigprocmask(SIG_BLOCK, set, inherited) < 0)
		die("sigprocmask: %s", strerror(errno));
}

static void wait_for_term(const sigset_t *set)
{
	bool ignore = env_is("PROBE_IGNORE_TERM", "1");
	int sig;

	for (;;) {
		int err = sigwait(set, &sig);

		if (err)
			die("sigwait: %s", strerror(err));
		if (!ignore)
			exit(0);
	}
}

int main(int argc, char **argv)
{
	/* one write per line: stderr is often the test's segue log, which
	 * segue writes to as well, a line at a time */
	if (setvbuf(stderr, NULL, _IOLBF, 0) != 0)
		die("setvbuf");
	const char *dir = argc > 1 ? argv[1] : getenv("PROBE_DIR");
	const char *ns = getenv("NOTIFY_SOCKET");
	sigset_t term, inherited;

	block_term(&term, &inherited);
	if (!dir || !*dir) {
		fputs("usage: probe OUTDIR (or PROBE_DIR in the environment)\n", stderr);
		return 2;
	}
	report(dir, argc, argv, &inherited);
	if (env_is("PROBE_NOTIFY", "1") && ns && *ns)
		notify_ready(ns);
	wait_for_term(&term);
}
