/* events.c: finds, waits for and prints segue's events (its log, logfmt or JSON) by field. */
/* SPDX-License-Identifier: MIT */
/*
 * The shell tests read events through this program, so that they match on
 * fields (event, program, generation, slot, reason...) whichever log format
 * segue writes (src/log.c): a line starting with '{' is a JSON object, one
 * starting with "ts=" is logfmt (either may follow a worker's unterminated
 * output on the same line); any other line (a worker's inherited output)
 * is a record without fields. Each line is one record; with -r PATH
 * the records are the elements PATH selects in each line's object (e.g. the
 * workers in a status answer).
 *
 * FILTER is FIELD=VALUE, FIELD!=VALUE, FIELD~REGEX or FIELD!~REGEX (POSIX
 * extended); a bare word W means event=W. A field is compared as text: a
 * string as it is, anything else as compact JSON (pid=42, inherited=true).
 * A field that is absent matches only != and !~. FIELD may be a path
 * (a.b, programs.0.name), or name a field of the element PATH went
 * through (with -r 'programs[].workers[]', programs.name is the worker's
 * program). Pseudo fields: @text is the line as logfmt (an event in JSON
 * is rendered as segue renders logfmt; any other line as it is), @line
 * its line number, @ms its ts in milliseconds since the epoch.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: events [-a | -c] [-n N] [-w SECONDS [-p PID]] [-s SKIP] [-r PATH]\n"
    "              [-f FIELD | -o TEMPLATE] FILE [FILTER...]\n"
    "  FILE     segue's log, or - for standard input (read to its end)\n"
    "  (default) print the Nth matching record as JSON (N < 0: from the end)\n"
    "  -a       print every matching record\n"
    "  -c       print how many records match\n"
    "  -n N     which record (default 1); with -a, -c or -w: need at least |N|\n"
    "  -w SECS  wait until the file holds them, SECS at most (else exit 1)\n"
    "  -p PID   while waiting, give up as soon as PID has exited\n"
    "  -s SKIP  ignore the first SKIP lines\n"
    "  -r PATH  records are the elements at PATH (a.b[].c[], [N] for one)\n"
    "  -f FIELD print that field's text instead of JSON\n"
    "  -o TMPL  print TMPL with each {FIELD} replaced by its text\n"
    "exit: 0 found, 1 not found (or timed out, or PID exited), 2 error\n";

#define MAX_DEPTH 16
#define POLL_NS	  20000000L /* 20 ms between looks at a growing file */

enum op { OP_EQ, OP_NE, OP_MATCH, OP_NOMATCH };
enum mode { PRINT_ONE, PRINT_ALL, COUNT };

struct filter {
	char *field;
	const char *value;
	enum op op;
	regex_t re;
};

/* One record: an object (NULL for a line without fields), the line it came
 * from, and the elements -r went through to reach it. */
struct record {
	json_t *obj;
	const char *line;
	long lineno;
	size_t depth;
	const char *via_key[MAX_DEPTH];
	json_t *via[MAX_DEPTH];
};

static struct {
	enum mode mode;
	long n;
	bool n_given;
	double wait;
	pid_t pid;
	long skip;
	const char *rows;
	char *template;
	struct filter *filters;
	size_t nfilters;
} opt = {.n = 1};

/* What was found: the count and the printed forms kept for output. */
static struct {
	long count;
	char **out;
	size_t nout;
} found;

static void *xalloc(void *p)
{
	if (!p) {
		fputs("events: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

/* ---- logfmt ------------------------------------------------------------ */

/* Keys whose values segue emits as strings even when they look like a
 * number or a word such as true: they stay strings when read from logfmt. */
static bool string_key(const char *key)
{
	static const char *const keys[] = {"ts",     "level",  "event",	    "msg",    "program",
					   "socket", "listen", "address",   "reason", "source",
					   "file",   "signal", "directory", NULL};
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* A logfmt value as segue wrote it: numbers, true/false/null bare, arrays
 * and objects as JSON text (quoted when they hold quotes), the rest as
 * strings. */
static json_t *typed_value(const char *key, const char *text, size_t len, bool quoted)
{
	if (!string_key(key) && len > 0 && (!quoted || text[0] == '[' || text[0] == '{')) {
		json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
		if (v && (!quoted || json_is_array(v) || json_is_object(v)))
			return v;
		json_decref(v);
	}
	return json_stringn_nocheck(text, len);
}

/* Reads one value at *p (quoted with \" \\ \n \t \xNN escapes, or up to
 * the next space) into buf; returns whether it was quoted, or -1. */
static int read_value(const char **p, char *buf, size_t *len)
{
	const char *s = *p;
	*len = 0;
	if (*s != '"') {
		while (*s && *s != ' ')
			buf[(*len)++] = *s++;
		*p = s;
		return 0;
	}
	for (s++; *s != '"'; s++) {
		if (!*s)
			return -1;
		char c = *s;
		if (c == '\\') {
			c = *++s;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'x' && s[1] && s[2]) {
				char hex[3] = {s[1], s[2], 0};
				c = (char)strtol(hex, NULL, 16);
				s += 2;
			} else if (c != '"' && c != '\\')
				return -1;
		}
		buf[(*len)++] = c;
	}
	*p = s + 1;
	return 1;
}

/* The object of a logfmt line ("ts=... level=... event=..."), or NULL. */
static json_t *parse_logfmt(const char *line)
{
	json_t *obj = xalloc(json_object());
	char *buf = xalloc(malloc(strlen(line) + 1));
	const char *p = line;
	while (*p) {
		size_t klen = strcspn(p, "= ");
		if (klen == 0 || p[klen] != '=')
			goto bad;
		char *key = xalloc(strndup(p, klen));
		p += klen + 1;
		size_t len;
		int quoted = read_value(&p, buf, &len);
		if (quoted >= 0)
			json_object_set_new_nocheck(obj, key, typed_value(key, buf, len, quoted));
		free(key);
		if (quoted < 0 || (*p && *p++ != ' '))
			goto bad;
	}
	free(buf);
	return obj;
bad:
	free(buf);
	json_decref(obj);
	return NULL;
}

/* Where segue's part of a line starts: at its start, or after a worker's
 * unterminated output ("demo[42]: ts=..."), as workers share segue's
 * stderr and write a line in more than one piece. NULL for no event. */
static const char *event_start(const char *line)
{
	if (line[0] == '{' || strncmp(line, "ts=", 3) == 0)
		return line;
	const char *json = strstr(line, "{\"ts\":\"");
	const char *logfmt = strstr(line, " ts=");
	if (logfmt && (!json || logfmt < json))
		return logfmt + 1;
	return json;
}

/* The line's object: JSON, logfmt, or NULL for a line of neither. */
static json_t *parse_line(const char *line)
{
	const char *start = event_start(line);
	if (start && start[0] == '{') {
		json_t *obj = json_loads(start, 0, NULL);
		if (json_is_object(obj))
			return obj;
		json_decref(obj);
		return NULL;
	}
	return start ? parse_logfmt(start) : NULL;
}

/* The escape logfmt writes for c inside quotes, or NULL for c itself. */
static const char *escape_of(unsigned char c)
{
	static char hex[8];
	if (c == '"' || c == '\\') {
		snprintf(hex, sizeof(hex), "\\%c", c);
		return hex;
	}
	if (c == '\n' || c == '\t')
		return c == '\n' ? "\\n" : "\\t";
	if (c >= ' ' && c != 0x7f)
		return NULL;
	snprintf(hex, sizeof(hex), "\\x%02x", c);
	return hex;
}

/* Writes s as segue's logfmt writes a value: bare when it can be, else
 * quoted, with the escapes that keep one event on one line. */
static void put_value(FILE *out, const char *s)
{
	bool bare = *s != '\0';
	for (const char *c = s; *c && bare; c++)
		bare = (unsigned char)*c > ' ' && !strchr("\"=\\", *c);
	if (bare) {
		fputs(s, out);
		return;
	}
	putc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		const char *escape = escape_of(*c);
		if (escape)
			fputs(escape, out);
		else
			putc(*c, out);
	}
	putc('"', out);
}

/* ---- fields ------------------------------------------------------------ */

/* A value as text: a string as it is, anything else as compact JSON. */
static char *value_text(const json_t *v)
{
	if (json_is_string(v))
		return xalloc(strdup(json_string_value(v)));
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	return s ? s : xalloc(strdup(""));
}

/* The record as logfmt: a JSON event rendered, any other line as it is. */
static char *logfmt_text(const struct record *r)
{
	const char *start = event_start(r->line);
	if (!r->obj || !start || start[0] != '{' || r->depth != 0)
		return xalloc(strdup(r->line));
	char *buf = NULL;
	size_t len = 0;
	FILE *out = xalloc(open_memstream(&buf, &len));
	const char *key;
	json_t *v;
	json_object_foreach (r->obj, key, v) {
		if (ftell(out) > 0)
			putc(' ', out);
		fprintf(out, "%s=", key);
		char *text = value_text(v);
		put_value(out, text);
		free(text);
	}
	fclose(out);
	return buf;
}

/* ts ("2026-11-26T12:00:03.123Z") in milliseconds since the epoch. */
static char *ts_ms(const struct record *r)
{
	const char *ts = json_string_value(json_object_get(r->obj, "ts"));
	struct tm tm = {0};
	int ms = 0;
	if (!ts || sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return NULL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)timegm(&tm) * 1000 + ms);
	return xalloc(strdup(buf));
}

/* Follows a dotted path from v: keys of objects, indexes of arrays
 * (programs.0.name). */
static json_t *walk(json_t *v, const char *path)
{
	char *copy = xalloc(strdup(path)), *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) {
		char *end;
		unsigned long i = strtoul(k, &end, 10);
		v = json_is_array(v) && *k && !*end ? json_array_get(v, i) : json_object_get(v, k);
	}
	free(copy);
	return v;
}

/* FIELD's text in r, or NULL when it has none. */
static char *field_text(const struct record *r, const char *field)
{
	if (strcmp(field, "@text") == 0)
		return logfmt_text(r);
	if (strcmp(field, "@ms") == 0)
		return ts_ms(r);
	if (strcmp(field, "@line") == 0) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%ld", r->lineno);
		return xalloc(strdup(buf));
	}
	json_t *v = r->obj ? json_object_get(r->obj, field) : NULL;
	if (!v && r->obj)
		v = walk(r->obj, field);
	size_t klen = strcspn(field, ".");
	for (size_t i = r->depth; !v && field[klen] && i-- > 0;)
		if (strlen(r->via_key[i]) == klen && !strncmp(r->via_key[i], field, klen))
			v = walk(r->via[i], field + klen + 1);
	return v ? value_text(v) : NULL;
}

/* ---- filters and output ------------------------------------------------ */

static bool passes(const struct record *r, const struct filter *f)
{
	char *text = field_text(r, f->field);
	bool hit;
	if (!text)
		hit = false;
	else if (f->op == OP_EQ || f->op == OP_NE)
		hit = strcmp(text, f->value) == 0;
	else
		hit = regexec(&f->re, text, 0, NULL, 0) == 0;
	free(text);
	return (f->op == OP_EQ || f->op == OP_MATCH) ? hit : !hit;
}

/* The record as it is printed: JSON, or the template filled in. */
static char *render(const struct record *r)
{
	if (!opt.template) {
		if (!r->obj)
			return xalloc(strdup(r->line));
		char *s = json_dumps(r->obj, JSON_COMPACT | JSON_ENCODE_ANY);
		return s ? s : xalloc(strdup("null"));
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *out = xalloc(open_memstream(&buf, &len));
	for (const char *t = opt.template; *t; t++) {
		const char *end = *t == '{' ? strchr(t, '}') : NULL;
		if (!end) {
			putc(*t, out);
			continue;
		}
		char *name = xalloc(strndup(t + 1, (size_t)(end - t - 1)));
		char *text = field_text(r, name);
		fputs(text ? text : "", out);
		free(text);
		free(name);
		t = end;
	}
	fclose(out);
	return buf;
}

static void keep(char *s)
{
	found.out = xalloc(realloc(found.out, (found.nout + 1) * sizeof(*found.out)));
	found.out[found.nout++] = s;
}

static void consider(const struct record *r)
{
	for (size_t i = 0; i < opt.nfilters; i++)
		if (!passes(r, &opt.filters[i]))
			return;
	found.count++;
	if (opt.mode == PRINT_ALL || (opt.mode == PRINT_ONE && opt.n < 0))
		keep(render(r));
	else if (opt.mode == PRINT_ONE && found.count == opt.n)
		keep(render(r));
}

/* Descends PATH from v; each element at its end is a record. */
static void expand(struct record *r, json_t *v, const char *path)
{
	while (*path == '.')
		path++;
	if (!v)
		return;
	if (!*path) {
		if (json_is_object(v)) {
			r->obj = v;
			consider(r);
		}
		return;
	}
	size_t klen = strcspn(path, ".[");
	char *key = xalloc(strndup(path, klen));
	json_t *child = klen ? json_object_get(v, key) : v;
	path += klen;
	if (*path != '[' || r->depth == MAX_DEPTH) {
		expand(r, child, path);
	} else {
		char *end = strchr(path, ']');
		const char *rest = end ? end + 1 : "";
		size_t i, d = r->depth++;
		json_t *e;
		r->via_key[d] = key;
		json_array_foreach (child, i, e) {
			if (path[1] != ']' && (!end || strtol(path + 1, NULL, 10) != (long)i))
				continue;
			r->via[d] = e;
			expand(r, e, rest);
		}
		r->depth = d;
	}
	free(key);
}

static void take_line(const char *line, long lineno)
{
	if (lineno <= opt.skip)
		return;
	struct record r = {.obj = parse_line(line), .line = line, .lineno = lineno};
	json_t *obj = r.obj;
	if (opt.rows && obj)
		expand(&r, obj, opt.rows);
	else if (!opt.rows)
		consider(&r);
	json_decref(obj);
}

/* ---- reading ------------------------------------------------------------ */

static struct {
	char *buf;
	size_t len, cap;
	long lineno;
} in;

/* Takes every complete line in the buffer; with all, the rest too. */
static void take_lines(bool all)
{
	size_t start = 0;
	if (in.len == 0)
		return;
	for (;;) {
		char *nl = memchr(in.buf + start, '\n', in.len - start);
		if (!nl && !(all && start < in.len))
			break;
		size_t end = nl ? (size_t)(nl - in.buf) : in.len;
		in.buf[end] = '\0';
		take_line(in.buf + start, ++in.lineno);
		start = nl ? end + 1 : in.len;
	}
	memmove(in.buf, in.buf + start, in.len - start);
	in.len -= start;
}

/* Reads what fd holds now, to its end, taking each complete line unless
 * hold. Returns 0, or -1 on an error. */
static int read_more(int fd, const char *name, bool hold)
{
	for (;;) {
		if (in.cap - in.len < 65536) {
			in.cap = in.cap * 2 + 65536;
			in.buf = xalloc(realloc(in.buf, in.cap + 1));
		}
		ssize_t n = read(fd, in.buf + in.len, in.cap - in.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "events: reading %s: %s\n", name, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		in.len += (size_t)n;
		if (!hold)
			take_lines(false);
	}
}

/* Standard input: one JSON document (a pretty-printed answer), or lines. */
static int read_stdin(void)
{
	if (read_more(STDIN_FILENO, "standard input", true) < 0)
		return -1;
	in.buf[in.len] = '\0';
	json_t *whole = in.len && in.buf[0] == '{' ? json_loads(in.buf, 0, NULL) : NULL;
	if (json_is_object(whole)) {
		char *line = json_dumps(whole, JSON_COMPACT);
		take_line(xalloc(line), 1);
		free(line);
	} else {
		take_lines(true);
	}
	json_decref(whole);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PID has exited (a zombie counts: it will never write again). */
static bool process_gone(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *end = strrchr(stat, ')');
	return end && end[1] == ' ' && end[2] == 'Z';
}

static long needed(void)
{
	if (opt.n_given)
		return labs(opt.n);
	return opt.mode == PRINT_ONE ? 1 : 0;
}

static bool satisfied(void)
{
	return found.count >= needed();
}

/* Reads FILE, waiting for it to hold what is needed if -w says so.
 * Returns 0 when it does, 1 when not, 2 on an error. */
static int scan_file(const char *file, const char *what)
{
	double deadline = now() + opt.wait;
	int fd = -1;
	for (;;) {
		if (fd < 0) {
			fd = open(file, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && (errno != ENOENT || opt.wait <= 0)) {
				fprintf(stderr, "events: cannot open %s: %s\n", file,
					strerror(errno));
				return 2;
			}
		}
		bool gone = opt.wait > 0 && opt.pid > 0 && process_gone(opt.pid);
		if (fd >= 0 && read_more(fd, file, false) < 0)
			return 2;
		if (satisfied() || opt.wait <= 0 || gone || now() >= deadline)
			break;
		nanosleep(&(struct timespec){0, POLL_NS}, NULL);
	}
	if (fd >= 0)
		close(fd);
	take_lines(true);
	if (satisfied())
		return 0;
	if (opt.wait > 0 && opt.pid > 0 && process_gone(opt.pid))
		fprintf(stderr,
			"events: process %ld exited while waiting for %ld x %s in %s (%ld seen)\n",
			(long)opt.pid, needed(), what, file, found.count);
	else if (opt.wait > 0)
		fprintf(stderr,
			"events: timed out after %gs waiting for %ld x %s in %s (%ld seen)\n",
			opt.wait, needed(), what, file, found.count);
	return 1;
}

/* ---- options ------------------------------------------------------------ */

static void parse_filter(struct filter *f, const char *arg)
{
	size_t k = strcspn(arg, "=!~");
	f->value = arg + k;
	if (!arg[k]) {
		f->field = xalloc(strdup("event"));
		f->value = arg;
		f->op = OP_EQ;
		return;
	}
	f->field = xalloc(strndup(arg, k));
	if (arg[k] == '!')
		f->value++;
	f->op = *f->value == '~' ? (arg[k] == '!' ? OP_NOMATCH : OP_MATCH)
				 : (arg[k] == '!' ? OP_NE : OP_EQ);
	if (*f->value != '=' && *f->value != '~') {
		fprintf(stderr, "events: bad filter \"%s\"\n%s", arg, usage);
		exit(2);
	}
	f->value++;
	if ((f->op == OP_MATCH || f->op == OP_NOMATCH) &&
	    regcomp(&f->re, f->value, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "events: bad regular expression \"%s\"\n", f->value);
		exit(2);
	}
}

static long number(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "events: %s: not a number: \"%s\"\n", what, s);
		exit(2);
	}
	return n;
}

static void parse_options(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "acn:w:p:s:r:f:o:")) != -1) {
		switch (c) {
		case 'a':
			opt.mode = PRINT_ALL;
			break;
		case 'c':
			opt.mode = COUNT;
			break;
		case 'n':
			opt.n = number(optarg, "-n");
			opt.n_given = true;
			break;
		case 'w':
			opt.wait = strtod(optarg, NULL);
			break;
		case 'p':
			opt.pid = (pid_t)number(optarg, "-p");
			break;
		case 's':
			opt.skip = number(optarg, "-s");
			break;
		case 'r':
			opt.rows = optarg;
			break;
		case 'f':
			opt.template = xalloc(malloc(strlen(optarg) + 3));
			sprintf(opt.template, "{%s}", optarg);
			break;
		case 'o':
			opt.template = optarg;
			break;
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind >= argc || (opt.n == 0 && opt.mode == PRINT_ONE)) {
		fputs(usage, stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);
	const char *file = argv[optind++];
	opt.nfilters = (size_t)(argc - optind);
	opt.filters = xalloc(calloc(opt.nfilters + 1, sizeof(*opt.filters)));
	char what[1024] = "";
	for (size_t i = 0; i < opt.nfilters; i++) {
		parse_filter(&opt.filters[i], argv[optind + (int)i]);
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s", i ? " " : "",
			 argv[optind + (int)i]);
	}
	int status = strcmp(file, "-") == 0 ? (read_stdin() < 0 ? 2
					       : satisfied()	? 0
								: 1)
					    : scan_file(file, *what ? what : "any line");
	if (status == 2)
		return 2;
	if (opt.mode == COUNT)
		printf("%ld\n", found.count);
	else if (opt.mode == PRINT_ALL)
		for (size_t i = 0; i < found.nout; i++)
			puts(found.out[i]);
	else if (opt.n > 0 && found.nout)
		puts(found.out[0]);
	else if (opt.n < 0 && found.nout >= (size_t)-opt.n)
		puts(found.out[found.nout - (size_t)-opt.n]);
	return status;
}
