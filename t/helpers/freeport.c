/* freeport.c: prints a TCP port on 127.0.0.1 that is free right now. */
/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("freeport");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}
