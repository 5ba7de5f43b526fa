/* http.c: a pure parser of HTTP/1.x requests for the admin endpoint. */
/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* What the head's header lines said, gathered line by line. */
struct head {
	int hosts;
	bool close, keep_alive;
	bool chunked; /* any Transfer-Encoding */
	int lengths;  /* Content-Length lines */
	size_t length;
	bool bad_length; /* not digits, or two lines that disagree */
};

/* The next line at *pos (at most to limit): [*start, *end) without its
 * LF or CRLF, *pos past it. false when no LF comes before limit. */
static bool next_line(const char *buf, size_t limit, size_t *pos, size_t *start, size_t *end)
{
	const char *nl = memchr(buf + *pos, '\n', limit - *pos);
	if (!nl)
		return false;
	*start = *pos;
	*end = (size_t)(nl - buf);
	*pos = *end + 1;
	if (*end > *start && buf[*end - 1] == '\r')
		(*end)--;
	return true;
}

/* RFC 9110's tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t token_len(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	return i;
}

static bool same_word(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

static int parse_version(const char *s, size_t n, int *minor)
{
	if (n == 8 && memcmp(s, "HTTP/1.", 7) == 0 && (s[7] == '0' || s[7] == '1')) {
		*minor = s[7] - '0';
		return 0;
	}
	if (n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
	    s[7] >= '0' && s[7] <= '9')
		return 505;
	return 400;
}

/* The path of a target: origin-form "/p?q", absolute-form
 * "http://host/p?q" (its path, "/" when it has none), or "*". */
static int parse_target(const char *buf, size_t t, size_t n, struct http_request *r)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[t + i] <= ' ' || (unsigned char)buf[t + i] >= 0x7f)
			return 400;
	size_t skip = 0;
	if (n > 7 && strncasecmp(buf + t, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(buf + t, "https://", 8) == 0)
		skip = 8;
	if (skip) {
		const char *slash = memchr(buf + t + skip, '/', n - skip);
		size_t host = slash ? (size_t)(slash - (buf + t)) : n;
		if (host == skip || memchr(buf + t + skip, '?', host - skip))
			return 400; /* no host, or a query before the path */
		r->path = t + host; /* no path at all: an empty one */
		r->path_len = 0;
		if (!slash)
			return 0;
		n -= host;
		t += host;
	} else if (!(buf[t] == '/' || (n == 1 && buf[t] == '*'))) {
		return 400;
	}
	const char *query = memchr(buf + t, '?', n);
	r->path = t;
	r->path_len = query ? (size_t)(query - (buf + t)) : n;
	return 0;
}

/* METHOD SP TARGET SP VERSION: 0, or the status that refuses it. */
static int parse_request_line(const char *buf, size_t start, size_t end, struct http_request *r)
{
	size_t n = end - start;
	size_t m = token_len(buf + start, n);
	if (m == 0 || m == n || buf[start + m] != ' ')
		return 400;
	if (m == 3 && memcmp(buf + start, "GET", 3) == 0)
		r->method = HTTP_GET;
	else if (m == 4 && memcmp(buf + start, "HEAD", 4) == 0)
		r->method = HTTP_HEAD;
	else
		r->method = HTTP_OTHER; /* methods are case-sensitive: "get" is another */
	size_t t = start + m + 1;
	const char *sp = memchr(buf + t, ' ', end - t);
	if (!sp || sp == buf + t)
		return 400;
	size_t tlen = (size_t)(sp - (buf + t));
	int v = parse_version(sp + 1, (size_t)(buf + end - (sp + 1)), &r->minor);
	if (v)
		return v;
	return parse_target(buf, t, tlen, r);
}

/* Connection: a comma-separated list of tokens. */
static void parse_connection(const char *v, size_t n, struct head *h)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t t = token_len(v + i, n - i);
		h->close |= same_word(v + i, t, "close");
		h->keep_alive |= same_word(v + i, t, "keep-alive");
		i += t;
		while (i < n && v[i] != ',')
			i++;
	}
}

static void parse_length(const char *v, size_t n, struct head *h)
{
	size_t value = 0;
	if (n == 0)
		h->bad_length = true;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			h->bad_length = true;
			return;
		}
		/* saturates: anything past the limit is refused the same */
		value = value > HTTP_MAX_REQUEST ? value : value * 10 + (size_t)(v[i] - '0');
	}
	if (h->lengths++ > 0 && value != h->length)
		h->bad_length = true;
	h->length = value;
}

/* NAME ":" OWS VALUE OWS: 0, or 400. */
static int parse_header(const char *buf, size_t start, size_t end, struct head *h)
{
	const char *s = buf + start;
	size_t n = end - start;
	size_t name = token_len(s, n);
	if (name == 0 || name == n || s[name] != ':')
		return 400; /* also a line that starts with blanks: obsolete folding */
	size_t v = name + 1;
	for (size_t i = v; i < n; i++)
		if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
			return 400;
	while (v < n && (s[v] == ' ' || s[v] == '\t'))
		v++;
	while (n > v && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (same_word(s, name, "host"))
		h->hosts++;
	else if (same_word(s, name, "connection"))
		parse_connection(s + v, n - v, h);
	else if (same_word(s, name, "content-length"))
		parse_length(s + v, n - v, h);
	else if (same_word(s, name, "transfer-encoding"))
		h->chunked = true;
	return 0;
}

static enum http_parse_result refuse(struct http_request *r, int status)
{
	r->status = status;
	r->keep_alive = false;
	return HTTP_ERROR;
}

/* The head is read: its headers decide the body and the connection. */
static enum http_parse_result finish(const struct head *h, size_t len, size_t pos,
				     struct http_request *r)
{
	if (h->bad_length || (h->chunked && h->lengths))
		return refuse(r, 400);
	if (h->chunked)
		return refuse(r, 501);
	if (r->minor == 1 && h->hosts != 1)
		return refuse(r, 400);
	if (h->hosts > 1)
		return refuse(r, 400);
	if (h->length > HTTP_MAX_REQUEST - pos)
		return refuse(r, 413);
	if (len - pos < h->length)
		return HTTP_INCOMPLETE;
	r->length = pos + h->length;
	r->keep_alive = !h->close && (r->minor == 1 || h->keep_alive);
	r->status = 0;
	return HTTP_REQUEST;
}

enum http_parse_result http_parse(const char *buf, size_t len, struct http_request *r)
{
	size_t limit = len < HTTP_MAX_REQUEST ? len : HTTP_MAX_REQUEST;
	size_t pos = 0, start, end;
	struct head h = {0};
	*r = (struct http_request){.method = HTTP_OTHER};
	do { /* empty lines before the request line are skipped */
		if (!next_line(buf, limit, &pos, &start, &end))
			return len >= HTTP_MAX_REQUEST ? refuse(r, 431) : HTTP_INCOMPLETE;
	} while (start == end);
	int status = parse_request_line(buf, start, end, r);
	if (status)
		return refuse(r, status);
	for (;;) {
		if (!next_line(buf, limit, &pos, &start, &end))
			return len >= HTTP_MAX_REQUEST ? refuse(r, 431) : HTTP_INCOMPLETE;
		if (start == end)
			return finish(&h, len, pos, r);
		if ((status = parse_header(buf, start, end, &h)))
			return refuse(r, status);
	}
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	    {200, "OK"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {413, "Content Too Large"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}
