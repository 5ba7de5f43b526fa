/* journalrecv.c: plays journald's native socket for tests: each entry received becomes a JSON line.
 */
/* SPDX-License-Identifier: MIT */
/*
 * usage: journalrecv SOCKET OUT
 *
 * Binds a datagram socket at SOCKET (as /run/systemd/journal/socket), then
 * creates OUT, so that OUT existing means SOCKET is ready. Each datagram is
 * decoded as journald's native protocol ("KEY=value\n", or "KEY\n", a 64-bit
 * little-endian length, the value and "\n") and appended to OUT as one JSON
 * object of its fields, plus "_binary": the keys that came in the
 * length-prefixed form, and "_bytes": the datagram's size. An entry that
 * came in a memfd (SCM_RIGHTS, as libsystemd sends a big one) is read from
 * it. A datagram that breaks the protocol becomes {"_error": WHY}. Runs
 * until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DGRAM_MAX (8 << 20)

static void sysdie(const char *what)
{
	fprintf(stderr, "journalrecv: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One field at *p (of end - *p bytes) into entry; NULL, or why not. */
static const char *decode_field(const char **p, const char *end, json_t *entry, json_t *binary)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return "a field without its newline";
	const char *eq = memchr(*p, '=', (size_t)(nl - *p));
	if (eq) {
		char *key = strndup(*p, (size_t)(eq - *p));
		json_object_set_new(entry, key, json_stringn(eq + 1, (size_t)(nl - eq - 1)));
		free(key);
		*p = nl + 1;
		return NULL;
	}
	if (end - (nl + 1) < 8)
		return "a binary field without its length";
	uint64_t len = 0;
	for (int i = 7; i >= 0; i--)
		len = len << 8 | (unsigned char)nl[1 + i];
	const char *value = nl + 9;
	if (len >= (uint64_t)(end - value) || value[len] != '\n')
		return "a binary field whose length does not fit";
	char *key = strndup(*p, (size_t)(nl - *p));
	json_object_set_new(entry, key, json_stringn(value, (size_t)len));
	json_array_append_new(binary, json_string(key));
	free(key);
	*p = value + len + 1;
	return NULL;
}

static json_t *decode(const char *buf, size_t len)
{
	json_t *entry = json_object(), *binary = json_array();
	const char *p = buf, *end = buf + len, *why = NULL;
	while (p < end && !why)
		why = decode_field(&p, end, entry, binary);
	if (why) {
		json_decref(entry);
		json_decref(binary);
		return json_pack("{s:s}", "_error", why);
	}
	json_object_set_new(entry, "_binary", binary);
	json_object_set_new(entry, "_bytes", json_integer((json_int_t)len));
	return entry;
}

/* A datagram without payload and with an fd: the entry is in that memfd. */
static ssize_t read_memfd(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size, 0);
	if (n < 0)
		sysdie("reading a memfd entry");
	close(fd);
	return n;
}

static ssize_t receive(int sock, char *buf, size_t size)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		if (n == 0)
			return read_memfd(fd, buf, size);
		close(fd);
	}
	return n;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "journalrecv: %s: too long for a unix socket\n", path);
		exit(1);
	}
	strcpy(sun.sun_path, path);
	if (unlink(path) < 0 && errno != ENOENT)
		sysdie(path);
	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		sysdie(path);
	int size = DGRAM_MAX;
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		sysdie("SO_RCVBUF");
	return sock;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: journalrecv SOCKET OUT\n", stderr);
		return 2;
	}
	int sock = bind_socket(argv[1]);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out < 0)
		sysdie(argv[2]);
	char *buf = malloc(DGRAM_MAX);
	if (!buf)
		sysdie("malloc");
	for (;;) {
		ssize_t n = receive(sock, buf, DGRAM_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			sysdie("recvmsg");
		json_t *entry = decode(buf, (size_t)n);
		char *line = json_dumps(entry, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(entry);
		if (!line)
			sysdie("encoding an entry");
		size_t len = strlen(line);
		line[len] = '\n'; /* one write, with its newline, in place of the NUL */
		if (write(out, line, len + 1) != (ssize_t)(len + 1))
			sysdie(argv[2]);
		free(line);
	}
}
