/* utf8.h: making any text valid UTF-8 before it enters JSON or a status. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_UTF8_H
#define SEGUE_UTF8_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, which stands for each invalid piece. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* The len bytes at s are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) and hold no NUL byte. */
bool utf8_valid(const char *s, size_t len);

/* Copies the len bytes at src to dst as valid UTF-8 and NUL-terminates it:
 * each maximal invalid piece (Unicode's "maximal subpart") and each NUL byte
 * becomes one U+FFFD. At most cap - 1 bytes are written (cap >= 1), and the
 * text is cut only between two characters. Returns the bytes written. */
size_t utf8_clean(char *dst, size_t cap, const char *src, size_t len);

/* JSON strings of any text, never rejected for its encoding: invalid bytes
 * become U+FFFD (as utf8_clean). NULL s gives JSON null. They return NULL
 * only when memory runs out. For answers and events built from config
 * values, errors, strerror() and workers' text. */
json_t *json_string_utf8(const char *s);
json_t *json_stringn_utf8(const char *s, size_t len);

#endif
