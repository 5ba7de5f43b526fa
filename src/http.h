/* http.h: a pure parser of HTTP/1.x requests for the admin endpoint. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_HTTP_H
#define SEGUE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* A request, head and body, may hold this many bytes at most. */
#define HTTP_MAX_REQUEST 8192

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

/* What http_parse found. */
enum http_parse_result {
	HTTP_INCOMPLETE, /* more bytes are needed */
	HTTP_REQUEST,	 /* a whole request: see struct http_request */
	HTTP_ERROR,	 /* refused: answer status, then close */
};

struct http_request {
	enum http_method method;
	size_t path, path_len; /* the path, without its query, as offsets in the buffer */
	int minor;	       /* HTTP/1.minor: 0 or 1 */
	bool keep_alive;       /* the connection may serve another request */
	size_t length;	       /* bytes of the buffer the request took, body included */
	int status;	       /* HTTP_ERROR: 400, 413, 431, 501 or 505 */
};

/* Reads the request at the start of buf (len bytes, any bytes at all):
 *  - a request line METHOD SP /PATH[?QUERY] SP HTTP/1.0|1.1, then header
 *    lines and an empty line, each ended by CRLF or LF; empty lines before
 *    the request line are skipped;
 *  - HTTP/1.1 needs exactly one Host header; Connection's close and
 *    keep-alive tokens, and each version's default, decide keep_alive;
 *  - a body is taken by Content-Length only (Transfer-Encoding: 501);
 *  - a head longer than HTTP_MAX_REQUEST is 431 (as soon as len passes it
 *    without an end), a head and body longer than that 413;
 *  - anything else malformed (a NUL or control byte, obsolete line folding,
 *    a bad header name, a target that is not a path) is 400, another
 *    version 505.
 * Never reads past buf + len; never writes to buf. */
enum http_parse_result http_parse(const char *buf, size_t len, struct http_request *r);

/* The reason phrase of a status this server sends ("Not Found"). */
const char *http_reason(int status);

#endif
