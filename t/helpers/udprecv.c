/* udprecv.c: a stand-in DogStatsD server for tests: binds 127.0.0.1 on a
 * free UDP port, prints the port, then appends each datagram to FILE as
 * one line (newlines inside it shown as "\n"). */
/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: udprecv FILE\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("udprecv");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	FILE *out = fopen(argv[1], "a");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return 1;
		for (ssize_t i = 0; i < n; i++)
			fputs(buf[i] == '\n' ? "\\n" : (char[]){buf[i], 0}, out);
		fputc('\n', out);
		fflush(out);
	}
}
