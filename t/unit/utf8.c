/* t/unit/utf8.c: unit tests for making text valid UTF-8 (src/utf8.c). */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/utf8.h"
#include "../tap.h"

#define R UTF8_REPLACEMENT

/* Cleans len bytes from an exact-size heap copy (so that ASan sees a read
 * past the end) into a buffer of cap bytes; returns a static copy. */
static const char *clean(const char *s, size_t len, size_t cap)
{
	static char out[1024];
	char *copy = malloc(len ? len : 1);
	char *dst = malloc(cap ? cap : 1);

	if (!copy || !dst)
		abort();
	memcpy(copy, s, len);
	size_t n = utf8_clean(dst, cap, copy, len);
	if (cap > 0 && (n >= cap || dst[n] != '\0' || strlen(dst) != n))
		snprintf(out, sizeof(out), "<bad length %zu>", n);
	else
		snprintf(out, sizeof(out), "%s", cap ? dst : "");
	free(copy);
	free(dst);
	return out;
}

static bool valid(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, s, len);
	bool v = utf8_valid(copy, len);
	free(copy);
	return v;
}

static const struct {
	const char *what, *in;
	size_t len;
	const char *want; /* cleaned, with room enough */
} cases[] = {
#define C(what, in, want)                                                                          \
	{                                                                                          \
		what, in, sizeof(in) - 1, want                                                     \
	}
    C("empty", "", ""),
    C("ASCII", "hello, world", "hello, world"),
    C("U+0080, the first 2-byte", "\xc2\x80", "\xc2\x80"),
    C("U+07FF, the last 2-byte", "\xdf\xbf", "\xdf\xbf"),
    C("U+0800, the first 3-byte", "\xe0\xa0\x80", "\xe0\xa0\x80"),
    C("U+D7FF, below the surrogates", "\xed\x9f\xbf", "\xed\x9f\xbf"),
    C("U+E000, above the surrogates", "\xee\x80\x80", "\xee\x80\x80"),
    C("U+FFFD", R, R),
    C("U+FFFF", "\xef\xbf\xbf", "\xef\xbf\xbf"),
    C("U+10000, the first 4-byte", "\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),
    C("U+10FFFF, the last", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
    C("Latin-1 e-acute", "caf\xe9", "caf" R),
    C("Latin-1 in the middle", "caf\xe9s", "caf" R "s"),
    C("lone continuation", "a\x80z", "a" R "z"),
    C("two continuations", "\x80\xbf", R R),
    C("overlong NUL C0 80", "\xc0\x80", R R),
    C("overlong C1 BF", "\xc1\xbf", R R),
    C("overlong 3-byte '/'", "\xe0\x80\xaf", R R R),
    C("overlong 3-byte U+07FF", "\xe0\x9f\xbf", R R R),
    C("overlong 4-byte", "\xf0\x80\x80\xaf", R R R R),
    C("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf", R R R R),
    C("surrogate U+D800", "\xed\xa0\x80", R R R),
    C("surrogate U+DFFF", "\xed\xbf\xbf", R R R),
    C("surrogate pair (CESU-8)", "\xed\xa0\xbd\xed\xb8\x80", R R R R R R),
    C("U+110000", "\xf4\x90\x80\x80", R R R R),
    C("F5 lead", "\xf5\x80\x80\x80", R R R R),
    C("5-byte form", "\xf8\x88\x80\x80\x80", R R R R R),
    C("FE and FF", "\xfe\xff", R R),
    C("2-byte cut at the end", "ab\xc3", "ab" R),
    C("3-byte cut after 2", "ab\xe2\x82", "ab" R),
    C("4-byte cut after 3", "\xf0\x9f\x98", R),
    C("4-byte cut, then ASCII", "\xf0\x9f\x98x", R "x"),
    C("3-byte with ASCII inside", "\xe2x\x82\xac", R "x" R R),
    C("lead after lead", "\xc3\xc3\xa9", R "\xc3\xa9"),
    C("NUL byte", "a\0b", "a" R "b"),
    C("mixed", "\xe2\x82\xac \xf0\x9f\x98\x80 \xff ok", "\xe2\x82\xac \xf0\x9f\x98\x80 " R " ok"),
#undef C
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].in;
		size_t len = cases[i].len;
		bool same = strlen(cases[i].want) == len && memcmp(cases[i].want, in, len) == 0;

		is_string(cases[i].want, clean(in, len, 256), "%s: cleaned", cases[i].what);
		is_int(same, valid(in, len), "%s: %s", cases[i].what, same ? "valid" : "invalid");
		ok(valid(cases[i].want, strlen(cases[i].want)), "%s: the result is valid",
		   cases[i].what);
	}
}

/* Our rule is jansson's (which rejects overlong forms, surrogates and code
 * points above U+10FFFF): checked over every string of 1 and 2 bytes, every
 * 3-byte string that starts with a 3-byte lead, and 4-byte strings whose
 * last bytes come from the edges of each range. */
static bool agrees(const unsigned char *s, size_t len)
{
	if (memchr(s, 0, len))
		return !utf8_valid((const char *)s, len);
	json_t *j = json_stringn((const char *)s, len);
	bool v = utf8_valid((const char *)s, len);
	json_decref(j);
	if ((j != NULL) != v)
		diag("%zu bytes %02x %02x %02x %02x: ours %d, jansson %d", len, s[0],
		     len > 1 ? s[1] : 0, len > 2 ? s[2] : 0, len > 3 ? s[3] : 0, v, j != NULL);
	return (j != NULL) == v;
}

static void test_against_jansson(void)
{
	static const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
					      0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff};
	unsigned char s[4];
	long bad = 0, n = 0;

	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		bad += !agrees(s, 1), n++;
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			bad += !agrees(s, 2), n++;
			for (unsigned c = 0; a >= 0xe0 && a < 0xf0 && c < 256; c++) {
				s[2] = (unsigned char)c;
				bad += !agrees(s, 3), n++;
			}
			for (size_t c = 0; a >= 0xf0 && c < sizeof(edges); c++)
				for (size_t d = 0; d < sizeof(edges); d++) {
					s[2] = edges[c];
					s[3] = edges[d];
					bad += !agrees(s, 4), n++;
				}
		}
	}
	is_int(0, bad, "utf8_valid agrees with jansson on %ld strings", n);
}

/* The byte length of the longest prefix of the valid string s that is at
 * most max bytes and ends between two characters. */
static size_t boundary(const char *s, size_t max)
{
	size_t n = max < strlen(s) ? max : strlen(s);
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* A cut at every byte limit keeps whole characters only. */
static void test_truncation(void)
{
	static const char text[] = "a\xc3\xa9"
				   "b\xe2\x82\xac"
				   "c\xf0\x9f\x98\x80"
				   "\xf4\x8f\xbf\xbf"
				   "\xe0\xa0\x80"
				   "\xdf\xbf"
				   "z";
	size_t len = sizeof(text) - 1;
	int bad = 0;

	for (size_t cap = 1; cap <= len + 2; cap++) {
		const char *got = clean(text, len, cap);
		size_t want = boundary(text, cap - 1);
		if (strlen(got) != want || memcmp(got, text, want) != 0) {
			diag("cap %zu: got %zu bytes, want %zu", cap, strlen(got), want);
			bad++;
		}
	}
	is_int(0, bad, "valid text cut at each of %zu limits: the longest whole-character prefix",
	       len + 2);

	/* A replacement is a character too: it is kept whole or left out. */
	is_string("ab", clean("ab\xff", 3, 4), "no room for U+FFFD: left out");
	is_string("ab", clean("ab\xff", 3, 5), "2 bytes of room for U+FFFD: left out");
	is_string("ab" R, clean("ab\xff", 3, 6), "room for U+FFFD: kept");
	is_string("", clean("\xff", 1, 3), "U+FFFD does not fit in 2 bytes");
	is_string("", clean("abc", 3, 1), "cap 1: empty");

	/* Every cut of every invalid mix is valid and no longer than allowed. */
	static const char mix[] = "\xe2\x82\xac\xff\xf0\x9f\x98x\xed\xa0\x80\xc3\xa9\x80";
	bad = 0;
	for (size_t cap = 1; cap <= 3 * sizeof(mix); cap++) {
		const char *got = clean(mix, sizeof(mix) - 1, cap);
		if (strlen(got) > cap - 1 || !utf8_valid(got, strlen(got)))
			bad++;
	}
	is_int(0, bad, "an invalid mix cut at each limit: valid and within the limit");

	char untouched = 'x';
	is_int(0, (long long)utf8_clean(&untouched, 0, "abc", 3), "cap 0: nothing written");
	is_int('x', untouched, "cap 0: the buffer is left alone");
}

/* Random bytes: the result is always valid; valid input comes out as is. */
static void test_random(void)
{
	unsigned seed = 12345;
	int bad = 0;
	char in[64], out[3 * sizeof(in) + 1];

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(in));
		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed);
			/* Bias towards bytes that make multi-byte forms. */
			in[i] = (char)(r & 1 ? 0x80 + (r >> 1) % 0x78 : (r >> 1) % 256);
		}
		size_t n = utf8_clean(out, sizeof(out), in, len);
		bool same = n == len && memcmp(in, out, len) == 0;
		if (!utf8_valid(out, n) || same != utf8_valid(in, len))
			bad++;
	}
	is_int(0, bad, "20000 random strings: always valid, unchanged exactly when valid");
}

static void test_json(void)
{
	json_t *j = json_string_utf8(NULL);
	ok(json_is_null(j), "json_string_utf8(NULL) is null");
	json_decref(j);

	j = json_string_utf8("caf\xe9");
	is_string("caf" R, json_string_value(j), "json_string_utf8 replaces a Latin-1 byte");
	char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	is_string("\"caf\\uFFFD\"", text, "and it dumps as JSON");
	free(text);
	json_decref(j);

	j = json_string_utf8("d\xc3\xa9j\xc3\xa0");
	is_string("d\xc3\xa9j\xc3\xa0", json_string_value(j), "valid text is kept");
	json_decref(j);

	j = json_stringn_utf8("a\0b\xed\xa0\x80", 6);
	is_string("a" R "b" R R R, json_string_value(j),
		  "json_stringn_utf8: NUL and a surrogate replaced");
	is_int(14, (long long)json_string_length(j), "json_stringn_utf8: its length");
	json_decref(j);

	/* What `json_pack` refuses (and made segue abort) now packs. */
	j = json_pack("{s:o}", "reason", json_string_utf8("ready-delay = \"caf\xe9\""));
	ok(j != NULL, "json_pack with a json_string_utf8 of invalid text");
	json_decref(j);
}

int main(void)
{
	plan_lazy();
	test_cases();
	test_against_jansson();
	test_truncation();
	test_random();
	test_json();
	return tap_done();
}
