/* t/unit/http.c: unit tests for the admin endpoint's HTTP request parser. */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http.h"
#include "../tap.h"

/* Parses len bytes from an exact-size heap copy, so that ASan sees any read
 * past the end. */
static enum http_parse_result parse(const char *buf, size_t len, struct http_request *r)
{
	char *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	enum http_parse_result p = http_parse(copy, len, r);
	free(copy);
	return p;
}

/* What parsing text gives, in short: "GET /path 1 keep 42" (method, path,
 * version, keep or close, length), "error 400", or "incomplete". */
static const char *summary(const char *text, size_t len)
{
	static char out[256];
	struct http_request r;
	enum http_parse_result p = parse(text, len, &r);
	if (p == HTTP_INCOMPLETE)
		return "incomplete";
	if (p == HTTP_ERROR) {
		snprintf(out, sizeof(out), "error %d", r.status);
		return out;
	}
	static const char *const methods[] = {"GET", "HEAD", "OTHER"};
	snprintf(out, sizeof(out), "%s %.*s 1.%d %s %zu", methods[r.method], (int)r.path_len,
		 text + r.path, r.minor, r.keep_alive ? "keep" : "close", r.length);
	return out;
}

static const struct {
	const char *in, *want, *what;
} cases[] = {
    {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health 1.1 keep 33", "a GET"},
    {"HEAD /ready HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /ready 1.1 keep 33", "a HEAD"},
    {"GET /ready HTTP/1.0\r\n\r\n", "GET /ready 1.0 close 23", "1.0 closes by default"},
    {"GET /ready HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET /ready 1.0 keep 47",
     "1.0 with keep-alive"},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n", "GET / 1.1 close 51",
     "Connection: close among other tokens"},
    {"GET /metrics?x=1&y HTTP/1.1\nHost: x\n\n", "GET /metrics 1.1 keep 37",
     "bare LF lines, and the query is not the path"},
    {"\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a 1.1 keep 32",
     "empty lines before the request line are skipped"},
    {"GET http://h:9/status?q HTTP/1.1\r\nHost: h\r\n\r\n", "GET /status 1.1 keep 45",
     "absolute-form: its path"},
    {"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", "GET  1.1 keep 34",
     "absolute-form without a path"},
    {"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET",
     "OTHER /status 1.1 keep 56", "a body by Content-Length is taken, not what follows"},
    {"get / HTTP/1.1\r\nHost: x\r\n\r\n", "OTHER / 1.1 keep 27", "methods are case-sensitive"},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", "incomplete",
     "a body not all there"},
    {"GET / HTTP/1.1\r\nHost: x\r\n", "incomplete", "no empty line yet"},
    {"GET / HT", "incomplete", "half a request line"},
    {"", "incomplete", "nothing"},
    {"GET / HTTP/1.1\r\n\r\n", "error 400", "1.1 without Host"},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "error 400", "two Host lines"},
    {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "error 505", "another version"},
    {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", "error 400", "a blank after the version"},
    {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", "error 400", "two blanks"},
    {"GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", "error 400", "a control byte in the target"},
    {"GET x HTTP/1.1\r\nHost: x\r\n\r\n", "error 400", "a target that is not a path"},
    {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", "error 400", "a method that is not a token"},
    {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "error 400", "a blank before the colon"},
    {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "error 400", "obsolete line folding"},
    {"GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n", "error 400", "a NUL in a value"},
    {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "error 400",
     "a Content-Length that is not a number"},
    {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "error 400",
     "two Content-Lengths that disagree"},
    {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "error 501",
     "Transfer-Encoding"},
    {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n", "error 413", "a body past 8 KiB"},
    {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "error 413",
     "a Content-Length that overflows"},
    {"\x16\x03\x01\x02\x01\x01\x01\xfc\x03\x03\n", "error 400", "a TLS hello"},
};

/* A head of exactly n bytes: a request line, Host, and a long header. */
static char *head_of(size_t n)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
	char *s = malloc(n + 1);
	if (!s || n < sizeof(start) + 4)
		abort();
	memcpy(s, start, sizeof(start) - 1);
	memset(s + sizeof(start) - 1, 'a', n - (sizeof(start) - 1) - 4);
	memcpy(s + n - 4, "\r\n\r\n", 5);
	return s;
}

static void limits(void)
{
	char *s = head_of(HTTP_MAX_REQUEST);
	is_string("GET / 1.1 keep 8192", summary(s, HTTP_MAX_REQUEST), "a head of 8 KiB is read");
	free(s);
	s = head_of(HTTP_MAX_REQUEST + 1);
	is_string("error 431", summary(s, HTTP_MAX_REQUEST + 1), "a byte more is 431");
	is_string("error 431", summary(s, HTTP_MAX_REQUEST), "known as soon as 8 KiB came");
	is_string("incomplete", summary(s, HTTP_MAX_REQUEST - 1), "not before");
	free(s);
	static const char body[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8147\r\n\r\n";
	is_string("error 413", summary(body, sizeof(body) - 1), "head and body past 8 KiB: 413");
}

int main(void)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);
	plan((int)n + 6);
	for (size_t i = 0; i < n; i++) {
		/* the NUL case holds a NUL: its length is the array's */
		size_t len = strlen(cases[i].in);
		if (strstr(cases[i].what, "NUL"))
			len = sizeof("GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n") - 1;
		is_string(cases[i].want, summary(cases[i].in, len), "%s", cases[i].what);
	}
	limits();
	is_string("Request Header Fields Too Large", http_reason(431), "reason of 431");
	return tap_done();
}
