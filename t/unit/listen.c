/* t/unit/listen.c: unit tests for the stale-socket probe, long paths,
 * closing without unlinking and the start-up bind retry. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/listen.h"
#include "../../src/log.h"
#include "../../src/util.h"
#include "../tap.h"

static char dir[] = "/tmp/segue-unit-listen.XXXXXX";

static const char *in_dir(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* A unix stream socket bound at path and listening with backlog; -1 on
 * error. */
static int unix_listener(const char *path, int backlog)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, backlog) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Runs listen_remove_stale_unix(path) in a child, which reports through its
 * exit status: 0 for "in use" (-1, EADDRINUSE), 1 for 0 (made way), 2 for
 * another error. Returns that status, or -1 when the child did not finish
 * within 3 s (it blocked: then it is killed). *ms gets the time taken. */
static int probe_in_child(const char *path, double *ms)
{
	double start = now_mono();
	pid_t pid = fork();

	if (pid == 0) {
		char err[256];
		int r = listen_remove_stale_unix(path, err, sizeof(err));
		_exit(r == 0 ? 1 : errno == EADDRINUSE && strstr(err, "in use") ? 0 : 2);
	}
	int status = 0;
	pid_t got = 0;
	while (pid > 0 && (got = waitpid(pid, &status, WNOHANG)) == 0 && now_mono() - start < 3) {
		struct timespec nap = {0, 5000000};
		nanosleep(&nap, NULL);
	}
	*ms = (now_mono() - start) * 1000;
	if (got == 0 && pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_probe(void)
{
	const char *path = in_dir("full.sock");
	int server = unix_listener(path, 0);

	if (server >= 0)
		fd_set_nonblock(server, true);
	int clients[64], n = 0;
	double ms;

	ok(server >= 0, "a listener with backlog 0");
	/* Fill its backlog: nobody accepts. */
	while (n < 64) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		clients[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (connect(clients[n], (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(clients[n]);
			break;
		}
		n++;
	}
	ok(n > 0 && n < 64, "its backlog is full after %d connections", n);
	is_int(0, probe_in_child(path, &ms), "a full backlog: in use, without blocking");
	ok(ms < 1000, "decided in %.0f ms", ms);
	ok(access(path, F_OK) == 0, "the live socket is left alone");
	for (int i = 0; i < n; i++)
		close(clients[i]);
	/* Make room: take what is queued. */
	int q;
	while ((q = accept4(server, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		close(q);
	ok(fd_set_nonblock(server, false) == 0, "its queue emptied");
	is_int(0, probe_in_child(path, &ms), "a live listener with room: in use");
	close(server);
	is_int(1, probe_in_child(path, &ms), "its listener gone: stale");
	ok(access(path, F_OK) < 0, "the stale socket file is removed");
	is_int(1, probe_in_child(path, &ms), "nothing there: fine");

	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0 && close(fd) == 0, "a plain file at the path");
	is_int(2, probe_in_child(path, &ms), "a file that is not a socket: an error");
	ok(access(path, F_OK) == 0, "and it is left alone");
}

/* A socket file at a path longer than sun_path (mknod makes one without
 * a bind); the probe used to copy it into a sockaddr_un on the stack. */
static void test_long_path(void)
{
	char path[400], err[512];
	char part[100];

	memset(part, 'd', sizeof(part) - 1);
	part[sizeof(part) - 1] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, part);
	ok(mkdir(path, 0700) == 0, "a deep directory");
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s.sock", part);
	ok(mknod(path, S_IFSOCK | 0600, 0) == 0, "a socket file at a %zu-byte path", strlen(path));
	errno = 0;
	is_int(-1, listen_remove_stale_unix(path, err, sizeof(err)), "the path is refused");
	is_int(ENAMETOOLONG, errno, "with ENAMETOOLONG");
	ok(strstr(err, "too long") != NULL, "the message says why: %.60s...", err);
	ok(access(path, F_OK) == 0, "the file is left alone");
	is_int(-1, listen_remove_stale_unix("", err, sizeof(err)), "an empty path is refused");
}

static struct socket_conf conf_for(const char *listen_addr)
{
	struct socket_conf s = {.name = "web",
				.listen = (char *)listen_addr,
				.backlog = 16,
				.mode = 0660,
				.owner = "",
				.group = ""};
	char err[128];

	if (parse_address(listen_addr, &s.addr, err, sizeof(err)) < 0)
		diag("parse_address %s: %s", listen_addr, err);
	return s;
}

static void test_keep_path(void)
{
	char addr[600], err[256];

	snprintf(addr, sizeof(addr), "unix:%s", in_dir("kept.sock"));
	struct socket_conf s = conf_for(addr);
	int fd = listen_open(&s, err, sizeof(err));
	ok(fd >= 0, "listen_open %s", addr);
	listen_close_keep_path(&s, fd);
	ok(access(s.addr.path, F_OK) == 0, "listen_close_keep_path leaves the socket file");
	ok(fcntl(fd, F_GETFD) < 0, "and closes the descriptor");
	fd = listen_open(&s, err, sizeof(err));
	ok(fd >= 0, "the kept (now stale) file is replaced by the next listen_open");
	listen_close(&s, fd);
	ok(access(s.addr.path, F_OK) < 0, "listen_close removes the file");
}

/* A child holds fd (already bound and listening) for ms milliseconds. */
static pid_t hold_for(int fd, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
		nanosleep(&t, NULL);
		_exit(0);
	}
	close(fd);
	return pid;
}

static int count_in_file(const char *path, const char *what)
{
	char line[2048];
	int n = 0;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

static void test_retry_tcp(void)
{
	char err[256], addr[64];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ok(blocker >= 0 && bind(blocker, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	       listen(blocker, 1) == 0 && getsockname(blocker, (struct sockaddr *)&sin, &len) == 0,
	   "another process's listener on a port");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));
	struct socket_conf s = conf_for(addr);

	errno = 0;
	is_int(-1, listen_open_retry(&s, 0, err, sizeof(err)), "max_wait 0: one try, refused");
	is_int(EADDRINUSE, errno, "with EADDRINUSE");
	is_int(0, count_in_file(in_dir("log"), "retrying"), "and no warning");

	double start = now_mono();
	is_int(-1, listen_open_retry(&s, 0.3, err, sizeof(err)), "still held after 0.3 s: refused");
	double took = now_mono() - start;
	ok(took >= 0.29 && took < 1.5, "after %.2f s", took);
	is_int(1, count_in_file(in_dir("log"), "retrying"), "with one warning");

	pid_t holder = hold_for(blocker, 300);
	start = now_mono();
	int fd = listen_open_retry(&s, 5, err, sizeof(err));
	took = now_mono() - start;
	ok(fd >= 0, "let go after 300 ms: the retry binds (%s)", fd < 0 ? err : "ok");
	ok(took >= 0.2 && took < 3, "after %.2f s", took);
	is_int(2, count_in_file(in_dir("log"), "retrying"), "one more warning, one only");
	waitpid(holder, NULL, 0);
	if (fd >= 0)
		listen_close(&s, fd);
}

static void test_retry_unix(void)
{
	char err[256], addr[600];
	const char *path = in_dir("orphan.sock");
	int live = unix_listener(path, 8);

	snprintf(addr, sizeof(addr), "unix:%s", path);
	struct socket_conf s = conf_for(addr);
	ok(live >= 0, "an orphan's live unix listener");
	pid_t holder = hold_for(live, 300);
	double start = now_mono();
	int fd = listen_open_retry(&s, 5, err, sizeof(err));
	double took = now_mono() - start;
	ok(fd >= 0, "once it is gone, the retry binds (%s)", fd < 0 ? err : "ok");
	ok(took >= 0.2 && took < 3, "after %.2f s", took);
	waitpid(holder, NULL, 0);
	if (fd >= 0)
		listen_close(&s, fd);
}

int main(void)
{
	plan_lazy();
	alarm(60);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		skip_all("no temporary directory");
	if (log_open(LOG_FORMAT_LOGFMT, in_dir("log")) < 0)
		diag("%s", log_error());
	test_probe();
	test_long_path();
	test_keep_path();
	test_retry_tcp();
	test_retry_unix();
	log_open(LOG_FORMAT_LOGFMT, NULL);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
