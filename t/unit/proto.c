/* t/unit/proto.c: unit tests for the control protocol's request parser. */
/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/proto.h"
#include "../tap.h"

/* Parses len bytes from an exact-size heap copy, so that ASan sees any read
 * past the end, and shows the line in the test names with escapes. */
static int parse(const char *line, size_t len, struct request *r, char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL)
		abort();
	memcpy(copy, line, len);
	rc = proto_parse(copy, len, r, err, errlen);
	free(copy);
	return rc;
}

static const char *show(const char *line, size_t len)
{
	static char buf[128];
	size_t j = 0;

	for (size_t i = 0; i < len && j + 5 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)line[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[j++] = (char)c;
		else
			j += (size_t)snprintf(buf + j, sizeof(buf) - j, "\\x%02x", c);
	}
	if (j + 5 >= sizeof(buf))
		strcpy(buf + j, "...");
	else
		buf[j] = '\0';
	return buf;
}

/* A request that parses, of the given kind; the parsed request in *out. */
static bool good_n(const char *line, size_t len, enum request_kind kind, struct request *out)
{
	struct request r;
	char err[256] = "";
	int rc = parse(line, len, &r, err, sizeof(err));

	if (!is_int(0, rc, "\"%s\" parses", show(line, len))) {
		diag("error: %s", err);
		return false;
	}
	if (out)
		*out = r;
	return is_int(kind, r.kind, "\"%s\" is request kind %d", show(line, len), kind);
}

static bool good(const char *line, enum request_kind kind, struct request *out)
{
	return good_n(line, strlen(line), kind, out);
}

/* A request that is refused with an error holding want. */
static void bad_n(const char *line, size_t len, const char *want)
{
	struct request r;
	char err[256] = "";
	int rc = parse(line, len, &r, err, sizeof(err));

	is_int(-1, rc, "\"%s\" is refused", show(line, len));
	if (!ok(strstr(err, want) != NULL, "\"%s\": error mentions \"%s\"", show(line, len), want))
		diag("error: \"%s\"", err);
}

static void bad(const char *line, const char *want)
{
	bad_n(line, strlen(line), want);
}

static void test_plain_verbs(void)
{
	static const struct {
		const char *verb;
		enum request_kind kind;
	} verbs[] = {
	    {"status", REQ_STATUS},	{"health", REQ_HEALTH},	  {"reload", REQ_RELOAD},
	    {"rollback", REQ_ROLLBACK}, {"upgrade", REQ_UPGRADE}, {"stop", REQ_STOP},
	    {"metrics", REQ_METRICS},	{"events", REQ_EVENTS},	  {"version", REQ_VERSION},
	};
	char line[64];
	struct request r;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (good(verbs[i].verb, verbs[i].kind, &r))
			ok(!r.wait && r.program[0] == '\0' && r.number == 0 && r.signal == 0,
			   "%s: no arguments set", verbs[i].verb);
		if (verbs[i].kind == REQ_RELOAD || verbs[i].kind == REQ_ROLLBACK)
			continue;
		snprintf(line, sizeof(line), "%s now", verbs[i].verb);
		bad(line, "usage: ");
		snprintf(line, sizeof(line), "%s a b c", verbs[i].verb);
		bad(line, verbs[i].verb);
	}
	/* Verbs are lower case and whole words. */
	bad("STATUS", "unknown request \"STATUS\"");
	bad("Status", "unknown request");
	bad("stat", "unknown request \"stat\"");
	bad("statuses", "unknown request");
	bad("status_", "unknown request");
	bad("-status", "unknown request");
	bad("help", "unknown request \"help\"");
}

static void test_reload(void)
{
	struct request r;

	if (good("reload", REQ_RELOAD, &r))
		is_int(0, r.wait, "reload: no wait");
	if (good("reload wait", REQ_RELOAD, &r))
		is_int(1, r.wait, "reload wait: wait");
	if (good("rollback", REQ_ROLLBACK, &r))
		is_int(0, r.wait, "rollback: no wait");
	if (good("rollback wait", REQ_ROLLBACK, &r))
		is_int(1, r.wait, "rollback wait: wait");
	bad("reload now", "usage: reload [wait|watch]");
	bad("reload WAIT", "usage: reload [wait|watch]");
	bad("reload waiting", "usage: reload [wait|watch]");
	bad("reload wait wait", "usage: reload [wait|watch]");
	bad("reload wait 1 2", "usage: reload [wait|watch]");
	bad("rollback now", "usage: rollback [wait]");
	bad("rollback wait wait", "usage: rollback [wait]");
}

static void test_scale(void)
{
	static const struct {
		const char *arg;
		int want;
	} numbers[] = {
	    {"0", 0}, {"1", 1}, {"3", 3}, {"007", 7}, {"9999", 9999}, {"10000", PROTO_MAX_WORKERS},
	};
	static const char *const not_numbers[] = {
	    "10001", "-1", "-10000", "99999", "2147483648", "4294967297", "99999999999999999999999",
	    "abc",   "3x", "x3",     "1.5",   "1e3",	    "0x10",	  "-",
	    "+",     "",
	};
	char line[256];
	struct request r;

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(line, sizeof(line), "scale web %s", numbers[i].arg);
		if (good(line, REQ_SCALE, &r)) {
			is_string("web", r.program, "%s: program", line);
			is_int(numbers[i].want, r.number, "%s: number", line);
		}
	}
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		if (not_numbers[i][0] == '\0')
			continue; /* "scale web " has one argument: see below */
		snprintf(line, sizeof(line), "scale web %s", not_numbers[i]);
		snprintf(line + 128, sizeof(line) - 128, "is not a number from 0 to %d",
			 PROTO_MAX_WORKERS);
		bad(line, line + 128);
	}
	bad("scale", "usage: scale PROGRAM N");
	bad("scale web", "usage: scale PROGRAM N");
	bad("scale web ", "usage: scale PROGRAM N");
	bad("scale 3", "usage: scale PROGRAM N");
	bad("scale web 3 4", "usage: scale PROGRAM N");
	bad("scale web 3 4 5", "too many words");
	/* The parser takes any printable word as the name; the supervisor
	 * looks it up. */
	if (good("scale ../odd:name\"' 2", REQ_SCALE, &r))
		is_string("../odd:name\"'", r.program, "scale: any printable name");
	/* The error shows the word. */
	bad("scale web many", "\"many\"");
}

static void test_signal(void)
{
	static const struct {
		const char *arg;
		int want;
	} sigs[] = {
	    {"TERM", SIGTERM},	  {"SIGTERM", SIGTERM}, {"term", SIGTERM}, {"sigterm", SIGTERM},
	    {"15", SIGTERM},	  {"HUP", SIGHUP},	{"KILL", SIGKILL}, {"USR1", SIGUSR1},
	    {"SIGUSR2", SIGUSR2}, {"WINCH", SIGWINCH},	{"1", 1},	   {"9", 9},
	    {"64", 64},		  {"SIG10", 10},	{"IOT", SIGABRT},
	};
	static const char *const not_sigs[] = {
	    "0",      "65",    "99",	"100", "-1",	     "-15",   "SIG",   "FOO",
	    "SIGFOO", "TERM1", "1TERM", "15x", "SIGSIGTERM", "SIG-1", "00015",
	};
	char line[256];
	struct request r;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(line, sizeof(line), "signal web %s", sigs[i].arg);
		if (good(line, REQ_SIGNAL, &r)) {
			is_string("web", r.program, "%s: program", line);
			is_int(sigs[i].want, r.signal, "%s: signal %d", line, sigs[i].want);
		}
	}
	for (size_t i = 0; i < sizeof(not_sigs) / sizeof(not_sigs[0]); i++) {
		snprintf(line, sizeof(line), "signal web %s", not_sigs[i]);
		snprintf(line + 128, sizeof(line) - 128, "unknown signal \"%s\"", not_sigs[i]);
		bad(line, line + 128);
	}
	bad("signal", "usage: signal PROGRAM SIG");
	bad("signal web", "usage: signal PROGRAM SIG");
	bad("signal web TERM KILL", "usage: signal PROGRAM SIG");
	bad("signal web TERM KILL HUP", "too many words");
}

static void test_whitespace(void)
{
	struct request r;

	good("  status", REQ_STATUS, NULL);
	good("status   ", REQ_STATUS, NULL);
	good("\tstatus\t", REQ_STATUS, NULL);
	good(" \t status \t ", REQ_STATUS, NULL);
	if (good("reload\twait", REQ_RELOAD, &r))
		is_int(1, r.wait, "tab separates words");
	if (good("scale \t web\t\t 5 ", REQ_SCALE, &r)) {
		is_string("web", r.program, "mixed blanks: program");
		is_int(5, r.number, "mixed blanks: number");
	}
	/* One trailing CR, from a CRLF line ending, is dropped. */
	good("status\r", REQ_STATUS, NULL);
	if (good("reload wait\r", REQ_RELOAD, &r))
		is_int(1, r.wait, "CR is not part of the last word");
	if (good("scale web 12\r", REQ_SCALE, &r))
		is_int(12, r.number, "CRLF: number read without the CR");
	good("status \r", REQ_STATUS, NULL);
	/* But only one, and only at the end. */
	bad("status\r\r", "(0x0d)");
	bad("\rstatus", "(0x0d)");
	bad("reload\rwait", "(0x0d)");
	/* The caller strips the newline: one left over is a control byte. */
	bad("status\n", "(0x0a)");
	bad("status\r\n", "(0x0d)");
	/* Other blanks are not separators. */
	bad("status\v", "(0x0b)");
	bad("status\f", "(0x0c)");
}

static void test_empty(void)
{
	bad_n("", 0, "empty request");
	bad("", "empty request");
	bad(" ", "empty request");
	bad("\t", "empty request");
	bad("   \t  \t", "empty request");
	bad("\r", "empty request");
	bad(" \r", "empty request");
	/* A NULL line of length 0 is read as nothing. */
	{
		struct request r;
		char err[64] = "";

		is_int(-1, proto_parse(NULL, 0, &r, err, sizeof(err)), "NULL, 0 is refused");
		is_string("empty request", err, "NULL, 0 is an empty request");
	}
}

static void test_bytes(void)
{
	char line[64];

	bad_n("status\0", 7, "(0x00)");
	bad_n("\0status", 7, "(0x00)");
	bad_n("sta\0tus", 7, "(0x00)");
	bad("sta\x01tus", "(0x01)");
	bad("\x1b[Astatus", "(0x1b)");
	bad("status\x7f", "(0x7f)");
	bad("st\xc3\xa4tus", "(0xc3)"); /* UTF-8 */
	bad("status \xff", "(0xff)");
	bad("\x80", "(0x80)");
	bad("scale w\xc3\xa9"
	    "b 2",
	    "(0xc3)");
	bad("signal web TERM\x07", "(0x07)");
	/* Every byte outside printable ASCII, space and tab is refused. */
	int refused = 0, total = 0;

	for (int c = 0; c < 256; c++) {
		struct request r;
		char err[128] = "", want[16];

		if ((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t')
			continue;
		if (c == '\r')
			continue; /* at the end it is dropped, tested above */
		total++;
		memcpy(line, "status", 6);
		line[6] = (char)c;
		snprintf(want, sizeof(want), "(0x%02x)", c);
		if (parse(line, 7, &r, err, sizeof(err)) == -1 && strstr(err, want))
			refused++;
		else
			diag("byte 0x%02x: \"%s\"", c, err);
	}
	is_int(total, refused, "every control and non-ASCII byte is refused by number");
}

static void test_lengths(void)
{
	char line[PROTO_MAX_LINE + 64];
	struct request r;

	/* The longest word is PROTO_MAX_NAME - 1 bytes. */
	memcpy(line, "scale ", 6);
	memset(line + 6, 'p', PROTO_MAX_NAME - 1);
	strcpy(line + 6 + PROTO_MAX_NAME - 1, " 2");
	if (good(line, REQ_SCALE, &r)) {
		is_int(PROTO_MAX_NAME - 1, (long long)strlen(r.program), "longest name kept whole");
		ok(r.program[0] == 'p' && r.program[PROTO_MAX_NAME - 2] == 'p',
		   "longest name: its bytes");
	}
	memset(line + 6, 'p', PROTO_MAX_NAME);
	strcpy(line + 6 + PROTO_MAX_NAME, " 2");
	bad(line, "word too long");
	memset(line + 6, 'p', 1000);
	strcpy(line + 6 + 1000, " 2");
	bad(line, "word too long");

	/* A long verb: the error quotes it (truncated to fit err). */
	memset(line, 'v', PROTO_MAX_NAME - 1);
	line[PROTO_MAX_NAME - 1] = '\0';
	bad(line, "unknown request \"vvvv");
	memset(line, 'v', PROTO_MAX_NAME);
	line[PROTO_MAX_NAME] = '\0';
	bad(line, "word too long");

	/* A number with many digits is a long word, not an overflow. */
	memcpy(line, "scale web ", 10);
	memset(line + 10, '0', 120);
	strcpy(line + 130, "5");
	if (good(line, REQ_SCALE, &r))
		is_int(5, r.number, "121 digits with leading zeros: 5");

	/* A line of the maximum length of blanks, then of words. */
	memset(line, ' ', PROTO_MAX_LINE);
	bad_n(line, PROTO_MAX_LINE, "empty request");
	memset(line, ' ', PROTO_MAX_LINE);
	memcpy(line + PROTO_MAX_LINE - 6, "status", 6);
	good_n(line, PROTO_MAX_LINE, REQ_STATUS, NULL);
	memset(line, 'x', PROTO_MAX_LINE);
	bad_n(line, PROTO_MAX_LINE, "word too long");
	for (size_t i = 0; i < PROTO_MAX_LINE; i += 2) {
		line[i] = 'x';
		line[i + 1] = ' ';
	}
	bad_n(line, PROTO_MAX_LINE, "too many words");

	/* Only len bytes are read: what follows does not count. */
	good_n("status extra", 6, REQ_STATUS, NULL);
	if (good_n("reload wait", 6, REQ_RELOAD, &r))
		is_int(0, r.wait, "len cuts the second word off");
	if (good_n("scale web 123", 11, REQ_SCALE, &r))
		is_int(1, r.number, "len cuts the number short");
	good_n("status\rX", 7, REQ_STATUS, NULL);
}

static void test_words(void)
{
	bad("a b c d e", "too many words");
	bad("status a b c d", "too many words");
	bad("x", "unknown request \"x\"");
	bad("foo bar", "unknown request \"foo\"");
	/* The unknown request message names the verbs. */
	bad("nope", "try status, health, reload");
}

/* The verb table is the one list of verbs: every entry parses to its kind,
 * each kind has one verb, and usage texts and the unknown-request message
 * come from it. */
static void test_table(void)
{
	static const char *const args[][2] = {{"", ""}, {"", ""}, {" web 2", " web TERM"}};
	char line[128], err[512];
	struct request r;
	bool seen[REQ_VERSION + 1] = {false};

	is_int(REQ_VERSION + 1, (long long)proto_nverbs, "one verb per request kind");
	for (size_t i = 0; i < proto_nverbs; i++) {
		const struct proto_verb *v = &proto_verbs[i];

		ok(v->kind <= REQ_VERSION && !seen[v->kind], "%s: a kind of its own", v->name);
		seen[v->kind] = true;
		ok(proto_verb_named(v->name) == v, "%s: found by name", v->name);
		ok(proto_verb_of(v->kind) == v, "%s: found by kind", v->name);
		ok(v->nargs == 0 || v->nargs == 2, "%s: takes 0 or 2 words", v->name);
		ok(v->args && (*v->args != '\0') == (v->nargs > 0), "%s: names its words", v->name);
		ok(v->summary && *v->summary, "%s: has a summary", v->name);
		snprintf(line, sizeof(line), "%s%s", v->name,
			 args[v->nargs][v->kind == REQ_SIGNAL]);
		good(line, v->kind, NULL);
		snprintf(line, sizeof(line), "%s wait", v->name);
		if (v->nargs == 0 && (v->flags & VERB_WAIT)) {
			if (good(line, v->kind, &r))
				ok(r.wait, "%s: wait", line);
		} else {
			snprintf(err, sizeof(err), "usage: %s%s%s", v->name, v->nargs ? " " : "",
				 v->args);
			bad(line, err);
		}
		snprintf(err, sizeof(err), "%s%s", i ? ", " : "(try ", v->name);
		bad("nope", err);
	}
	ok(proto_verb_named("help") == NULL, "no verb \"help\"");
	ok(proto_verb_named("STATUS") == NULL, "names are exact");
	ok(proto_verb_named("") == NULL, "no empty verb");
	is_int(VERB_STREAM, proto_verb_named("metrics")->flags, "metrics: a stream");
	is_int(VERB_STREAM, proto_verb_named("events")->flags, "events: a stream");
	is_int(VERB_WAIT, proto_verb_named("reload")->flags, "reload: takes wait");
	is_int(VERB_WAIT, proto_verb_named("rollback")->flags, "rollback: takes wait");
	is_string("PROGRAM N", proto_verb_named("scale")->args, "scale: its words");
	is_string("PROGRAM SIG", proto_verb_named("signal")->args, "signal: its words");
}

static void test_errors(void)
{
	struct request r;
	char small[8];
	char tiny[1] = {'x'};

	memset(small, 'x', sizeof(small));
	is_int(-1, parse("nope", 4, &r, small, sizeof(small)), "small err buffer: refused");
	ok(memchr(small, '\0', sizeof(small)) != NULL, "small err buffer: terminated");
	is_string("unknown", small, "small err buffer: truncated message");
	is_int(-1, parse("nope", 4, &r, tiny, sizeof(tiny)), "1-byte err buffer: refused");
	is_int('\0', tiny[0], "1-byte err buffer: empty string");
	is_int(-1, parse("nope", 4, &r, NULL, 0), "no err buffer: refused");
	is_int(-1, parse("scale a b", 9, &r, NULL, 0), "no err buffer: bad number refused");
	is_int(-1, parse("sta\x01", 4, &r, NULL, 0), "no err buffer: bad byte refused");

	/* Every call starts from a clean request. */
	good("reload wait", REQ_RELOAD, &r);
	is_int(0, proto_parse("status", 6, &r, small, sizeof(small)), "status after reload wait");
	ok(!r.wait && r.program[0] == '\0' && r.number == 0 && r.signal == 0,
	   "request fields cleared between calls");
	good("scale web 9", REQ_SCALE, &r);
	is_int(0, proto_parse("signal db HUP", 13, &r, small, sizeof(small)), "signal after scale");
	is_int(0, r.number, "signal: number cleared");
	is_string("db", r.program, "signal: program replaced");
}

int main(void)
{
	plan_lazy();
	test_plain_verbs();
	test_reload();
	test_scale();
	test_signal();
	test_whitespace();
	test_empty();
	test_bytes();
	test_lengths();
	test_words();
	test_table();
	test_errors();
	return tap_done();
}
