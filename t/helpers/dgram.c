/* dgram.c: sends its standard input as one datagram to a unix socket, as a
 * test's stand-in for a (possibly broken) sd_notify client. */
/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: dgram SOCKET < DATA  (SOCKET may start with @)\n");
		return 2;
	}
	static char buf[1 << 17];
	size_t len = fread(buf, 1, sizeof(buf), stdin);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t plen = strlen(argv[1]);
	if (plen >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dgram: socket name too long\n");
		return 2;
	}
	memcpy(sun.sun_path, argv[1], plen);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if (fd < 0 || sendto(fd, buf, len, 0, (struct sockaddr *)&sun, salen) < 0) {
		perror("dgram");
		return 1;
	}
	return 0;
}
