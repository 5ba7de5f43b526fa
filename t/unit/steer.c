/* t/unit/steer.c: unit tests for steer's pure part: the classic BPF
 * program and the bookkeeping of a SO_REUSEPORT group's order, checked
 * against a real group of sockets. */
/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/steer.h"
#include "../tap.h"

static void program(void)
{
	struct sock_filter p[STEER_PROGRAM_MAX];
	size_t n = steer_program(3, p);
	is_int(1, (long long)n, "the program is one instruction");
	is_int(BPF_RET | BPF_K, p[0].code, "it returns a constant");
	is_int(3, p[0].k, "the constant is the index");
	n = steer_program(65535, p);
	is_int(65535, p[0].k, "the largest index");
}

/* canary-weight's program: a random draw below the threshold picks the
 * new socket, any other the old one. */
static void weighted_program(void)
{
	struct sock_filter p[STEER_PROGRAM_MAX];
	size_t n = steer_weighted_program(2, 0, 50, p);
	is_int(4, (long long)n, "the weighted program is 4 instructions");
	is_int(BPF_LD | BPF_W | BPF_ABS, p[0].code, "it loads a word");
	is_int((long long)(uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM), p[0].k,
	       "the random ancillary value");
	is_int(BPF_JMP | BPF_JGE | BPF_K, p[1].code, "compares it with a constant");
	is_int(0x80000000LL, p[1].k, "50%%: half of 2^32");
	is_int(1, p[1].jt, "at or above it: the old index");
	is_int(0, p[1].jf, "below it: the new index");
	is_int(BPF_RET | BPF_K, p[2].code, "returns a constant");
	is_int(2, p[2].k, "the new index");
	is_int(BPF_RET | BPF_K, p[3].code, "returns a constant");
	is_int(0, p[3].k, "the old index");
	steer_weighted_program(2, 0, 1, p);
	is_int(42949672, p[1].k, "1%%: 2^32 / 100");
	steer_weighted_program(2, 0, 99, p);
	is_int(4252017623LL, p[1].k, "99%%: 2^32 * 99 / 100");
	steer_weighted_program(2, 0, 0, p);
	is_int(0, p[1].k, "0%%: no draw is below");
	n = steer_weighted_program(5, 1, 100, p);
	is_int(1, (long long)n, "100%%: the one-instruction program");
	is_int(5, p[0].k, "aimed at the new index");
}

/* index[] as "a b c": each member's place */
static const char *order(const int *index, size_t n)
{
	static char buf[64];
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%d", i ? " " : "",
			 index[i]);
	return buf;
}

static void group_order(void)
{
	int idx[4] = {0, 1, 2, 3};
	is_int(4, (long long)steer_group_size(idx, 4), "4 members");
	is_int(3, steer_group_leave(idx, 4, 1), "the member at the last place moves");
	is_string("0 -1 2 1", order(idx, 4), "into the place left");
	is_int(-1, steer_group_leave(idx, 4, 2), "the last place leaves: nobody moves");
	is_string("0 -1 -1 1", order(idx, 4), "2 members left");
	is_int(-1, steer_group_leave(idx, 4, 1), "a member that left cannot leave again");
	is_int(-1, steer_group_leave(idx, 4, 9), "nor one that never was");
	is_int(3, steer_group_leave(idx, 4, 0), "the first leaves: the last takes place 0");
	is_string("-1 -1 -1 0", order(idx, 4), "one member");
	is_int(1, (long long)steer_group_size(idx, 4), "of size 1");
}

static int member(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), on = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
		return -1;
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : -1;
}

/* Which member a new connection reaches, with the program aimed at the
 * place the bookkeeping gives it. */
static int reached(const int *fds, size_t n, int port)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -2;
	int got = -1;
	for (size_t i = 0; i < n; i++) {
		int s = fds[i] >= 0 ? accept4(fds[i], NULL, NULL, SOCK_NONBLOCK) : -1;
		if (s >= 0) {
			got = (int)i;
			close(s);
		}
	}
	close(c);
	return got;
}

static void attach(int fd, struct sock_filter *code, size_t len)
{
	struct sock_fprog prog = {.filter = code, .len = (unsigned short)len};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
		diag("SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
}

static void aim_at(int fd, int index)
{
	struct sock_filter code[STEER_PROGRAM_MAX];
	attach(fd, code, steer_program((unsigned)index, code));
}

/* Connections that reach member 1 (the new socket, at place 1) of 2, out
 * of n, with `percent` of them sent there. */
static int weighted_share(const int *fds, int port, unsigned percent, int n)
{
	struct sock_filter code[STEER_PROGRAM_MAX];
	attach(fds[0], code, steer_weighted_program(1, 0, percent, code));
	int got[2] = {0, 0};
	for (int i = 0; i < n; i++) {
		int r = reached(fds, 2, port);
		if (r >= 0)
			got[r]++;
	}
	if (got[0] + got[1] != n)
		diag("%d of %d connections reached no member", n - got[0] - got[1], n);
	return got[1];
}

/* The kernel runs the weighted program: the random draw splits a real
 * group's new connections. */
static void kernel_weighs(void)
{
	int fds[2] = {member(0), -1};
	int port = port_of(fds[0]);
	fds[1] = member(port);
	if (fds[0] < 0 || fds[1] < 0) {
		ok(false, "a group of 2 sockets: %s", strerror(errno));
		return;
	}
	is_int(100, weighted_share(fds, port, 100, 100), "100%%: every connection is new's");
	is_int(0, weighted_share(fds, port, 0, 100), "0%%: none is");
	/* 1%: P(more than 20 of 100) is below 1e-20; 99% likewise */
	ok(weighted_share(fds, port, 1, 100) <= 20, "1%%: a few at most");
	ok(weighted_share(fds, port, 99, 100) >= 80, "99%%: nearly all");
	/* Binomial(400, 0.5) outside [100, 300] is 10 standard deviations
	 * away: probability below 1e-23. */
	int half = weighted_share(fds, port, 50, 400);
	ok(half >= 100 && half <= 300, "50%%: %d of 400 are new's, between 25%% and 75%%", half);
	close(fds[0]);
	close(fds[1]);
}

/* The kernel agrees with the bookkeeping: after members leave, the
 * program aimed at a member's recorded place reaches that member. */
static void kernel_agrees(void)
{
	int fds[4], idx[4], port = 0;
	for (int i = 0; i < 4; i++) {
		fds[i] = member(port);
		if (fds[i] < 0) {
			ok(false, "a group of 4 sockets: %s", strerror(errno));
			return;
		}
		port = port_of(fds[0]);
		idx[i] = i;
	}
	for (int t = 0; t < 4; t++) {
		aim_at(fds[0], idx[t]);
		is_int(t, reached(fds, 4, port), "aimed at place %d: member %d", idx[t], t);
	}
	int leaves[] = {1, 0};
	for (size_t k = 0; k < 2; k++) {
		int l = leaves[k];
		if (shutdown(fds[l], SHUT_RD) < 0)
			diag("shutdown: %s", strerror(errno));
		steer_group_leave(idx, 4, (size_t)l);
		close(fds[l]);
		fds[l] = -1;
		for (int t = 0; t < 4; t++) {
			if (fds[t] < 0)
				continue;
			aim_at(fds[t], idx[t]);
			is_int(t, reached(fds, 4, port), "after %d left: member %d at place %d", l,
			       t, idx[t]);
		}
	}
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int main(void)
{
	plan_lazy();
	program();
	weighted_program();
	group_order();
	kernel_agrees();
	kernel_weighs();
	return tap_done();
}
