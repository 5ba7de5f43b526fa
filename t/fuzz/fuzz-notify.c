/* fuzz-notify.c: libFuzzer harness for notify_parse(), the sd_notify parser. */
/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/notify.h"
#include "../../src/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The documented answer, worked out apart from the parser: -1 for an empty
 * datagram, a NUL byte or a non-empty line without '='. */
static int expected(const uint8_t *data, size_t size)
{
	size_t start = 0;

	if (size == 0 || memchr(data, '\0', size))
		return -1;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i > start && !memchr(data + start, '=', i - start))
			return -1;
		start = i + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past the end is an ASan report. */
	char *buf = malloc(size ? size : 1);
	struct notify_msg m;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	int rc = notify_parse(buf, size, &m);

	if (rc != expected(data, size))
		abort();
	if (rc == 0) {
		const char *end = memchr(m.status, '\0', sizeof(m.status));

		if (end == NULL)
			abort();
		if (!m.has_status && end != m.status)
			abort();
		for (const char *p = m.status; p < end; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				abort();
		/* It goes into JSON: valid UTF-8 only. */
		if (!utf8_valid(m.status, (size_t)(end - m.status)))
			abort();
		/* A flag is set only by its exact line. */
		if (m.ready && !memmem(data, size, "READY=1", 7))
			abort();
		if (m.stopping && !memmem(data, size, "STOPPING=1", 10))
			abort();
		if (m.has_status && !memmem(data, size, "STATUS=", 7))
			abort();
	}
	free(buf);
	return 0;
}
