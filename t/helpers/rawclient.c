/* rawclient.c: a control-socket client for abuse tests: sends its stdin as
 * is (or byte by byte), half-closes, holds many idle connections, or never
 * reads. Prints what it received. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: rawclient [-b] [-H] [-n] [-c N] [-l N] [-t SECONDS] SOCKET|HOST:PORT < INPUT\n"
    "  -b  send byte by byte, 1 ms apart\n"
    "  -H  half-close (shutdown SHUT_WR) after sending\n"
    "  -n  never read: hold the connection for -t seconds\n"
    "  -c  open N connections, each sends INPUT; hold them -t seconds and\n"
    "      print how many were closed by the server\n"
    "  -t  how long to read or hold (default 5)\n"
    "  -l  stop after N lines were received\n";

/* HOST:PORT (no '/' in it): a TCP connection, for the admin endpoint. */
static int connect_tcp(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		fprintf(stderr, "rawclient: bad address %s\n", addr);
		exit(2);
	}
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("rawclient: connect");
		exit(2);
	}
	freeaddrinfo(ai);
	return fd;
}

static int connect_to(const char *path)
{
	if (!strchr(path, '/') && strchr(path, ':'))
		return connect_tcp(path);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("rawclient: connect");
		exit(2);
	}
	return fd;
}

static void send_all(int fd, const char *buf, size_t len, bool bytewise)
{
	size_t step = bytewise ? 1 : len;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (send(fd, buf + off, n, MSG_NOSIGNAL) < 0)
			return; /* the server may close on us: that is what we test */
		if (bytewise)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_until_eof(int fd, double seconds, int lines)
{
	double end = now() + seconds;
	char buf[65536];
	while (lines != 0) {
		int left = (int)((end - now()) * 1000);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0) {
			fprintf(stderr, "rawclient: no EOF within %gs\n", seconds);
			return;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		fwrite(buf, 1, (size_t)n, stdout);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n' && lines > 0)
				lines--;
	}
}

/* Holds n connections; returns how many the server closed. */
static int hold_many(const char *path, int n, const char *in, size_t len, double seconds)
{
	int *fds = calloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++) {
		fds[i] = connect_to(path);
		send_all(fds[i], in, len, false);
	}
	double end = now() + seconds;
	while (now() < end)
		nanosleep(&(struct timespec){0, 20000000}, NULL);
	int closed = 0;
	for (int i = 0; i < n; i++) {
		char buf[4096];
		ssize_t r;
		while ((r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (r == 0 || (r < 0 && errno != EAGAIN))
			closed++;
		close(fds[i]);
	}
	free(fds);
	return closed;
}

int main(int argc, char **argv)
{
	bool bytewise = false, half = false, noread = false;
	int count = 0, lines = -1;
	double seconds = 5;
	int opt;
	while ((opt = getopt(argc, argv, "bHnc:t:l:")) != -1) {
		switch (opt) {
		case 'b':
			bytewise = true;
			break;
		case 'H':
			half = true;
			break;
		case 'n':
			noread = true;
			break;
		case 'c':
			count = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'l':
			lines = atoi(optarg);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	static char in[4 << 20];
	size_t len = fread(in, 1, sizeof(in), stdin);
	if (count > 0) {
		printf("closed=%d\n", hold_many(argv[optind], count, in, len, seconds));
		return 0;
	}
	int fd = connect_to(argv[optind]);
	send_all(fd, in, len, bytewise);
	if (half)
		shutdown(fd, SHUT_WR);
	if (noread) {
		nanosleep(&(struct timespec){(time_t)seconds, 0}, NULL);
		return 0;
	}
	read_until_eof(fd, seconds, lines);
	return 0;
}
