/* utf8.c: making any text valid UTF-8 before it enters JSON or a status. */
/* SPDX-License-Identifier: MIT */
#include "utf8.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reads the character at s, of which n >= 1 bytes are there. Returns its
 * length with *ok set, or the length of the invalid piece to replace (at
 * least 1) with *ok cleared. The bounds of each lead byte's second byte are
 * those of Unicode's table 3-7: they rule out overlong forms (E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF. */
static size_t decode(const unsigned char *s, size_t n, bool *ok)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	*ok = false;
	if (c < 0x80) {
		*ok = c != 0; /* NUL would end the text early in C */
		return 1;
	}
	if (c < 0xc2 || c > 0xf4)
		return 1; /* a continuation byte, or C0, C1, F5..FF: never valid */
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else {
		need = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = true;
	return need;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	bool ok = true;

	while (len > 0 && ok) {
		size_t n = decode(p, len, &ok);
		p += n;
		len -= n;
	}
	return ok;
}

size_t utf8_clean(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t out = 0;

	if (cap == 0)
		return 0;
	while (len > 0) {
		bool ok;
		size_t n = decode(p, len, &ok);
		const char *piece = ok ? (const char *)p : UTF8_REPLACEMENT;
		size_t plen = ok ? n : sizeof(UTF8_REPLACEMENT) - 1;
		if (plen > cap - 1 - out)
			break;
		memcpy(dst + out, piece, plen);
		out += plen;
		p += n;
		len -= n;
	}
	dst[out] = '\0';
	return out;
}

json_t *json_stringn_utf8(const char *s, size_t len)
{
	if (!s)
		return json_null();
	if (utf8_valid(s, len))
		return json_stringn_nocheck(s, len);
	/* Each byte becomes at most one 3-byte U+FFFD. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	size_t cap = 3 * len + 1;
	char *clean = xmalloc(cap);
	size_t n = utf8_clean(clean, cap, s, len);
	json_t *j = json_stringn_nocheck(clean, n);
	free(clean);
	return j;
}

json_t *json_string_utf8(const char *s)
{
	return s ? json_stringn_utf8(s, strlen(s)) : json_null();
}
