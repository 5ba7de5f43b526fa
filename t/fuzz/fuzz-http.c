/* fuzz-http.c: libFuzzer harness for http_parse(), the admin endpoint's request parser. */
/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum http_parse_result parse(const uint8_t *data, size_t size, struct http_request *r)
{
	/* An exact-size copy: a read past the end is an ASan report. */
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	enum http_parse_result p = http_parse(buf, size, r);
	free(buf);
	return p;
}

static void check_request(const uint8_t *data, size_t size, const struct http_request *r)
{
	if (r->length > size || r->length > HTTP_MAX_REQUEST || r->minor < 0 || r->minor > 1)
		abort();
	if (r->path > r->length || r->path_len > r->length - r->path)
		abort();
	for (size_t i = 0; i < r->path_len; i++)
		if (data[r->path + i] <= ' ' || data[r->path + i] >= 0x7f ||
		    data[r->path + i] == '?')
			abort();
	if (r->path_len > 0 && data[r->path] != '/' && data[r->path] != '*')
		abort();
	/* the head ends with an empty line */
	if (!memmem(data, r->length, "\n\n", 2) && !memmem(data, r->length, "\n\r\n", 3))
		abort();
	if (r->method == HTTP_GET && !memmem(data, r->length, "GET ", 4))
		abort();
	if (r->method == HTTP_HEAD && !memmem(data, r->length, "HEAD ", 5))
		abort();
}

static bool known_error(int status)
{
	return status == 400 || status == 413 || status == 431 || status == 501 || status == 505;
}

/* What a prefix gives is "incomplete" or what the whole gives: bytes that
 * come later never change an answer already made. */
static void check_prefix(const uint8_t *data, size_t k, enum http_parse_result whole,
			 const struct http_request *r)
{
	struct http_request q;
	enum http_parse_result p = parse(data, k, &q);
	if (p == HTTP_INCOMPLETE)
		return;
	if (p != whole || (p == HTTP_ERROR && q.status != r->status))
		abort();
	if (p == HTTP_REQUEST &&
	    (q.length != r->length || q.path != r->path || q.path_len != r->path_len ||
	     q.method != r->method || q.keep_alive != r->keep_alive))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r;
	enum http_parse_result p = parse(data, size, &r);
	if (p == HTTP_INCOMPLETE && size >= HTTP_MAX_REQUEST)
		abort(); /* 8 KiB always decide */
	if (p == HTTP_ERROR && (!known_error(r.status) || r.keep_alive))
		abort();
	if (p == HTTP_REQUEST)
		check_request(data, size, &r);
	else if (p != HTTP_ERROR && p != HTTP_INCOMPLETE)
		abort();
	check_prefix(data, size / 2, p, &r);
	if (size > 0)
		check_prefix(data, size - 1, p, &r);
	if (p == HTTP_REQUEST)
		check_prefix(data, r.length, p, &r); /* exactly the request: the same */
	return 0;
}
