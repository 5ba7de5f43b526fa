/* config.c: the configuration object, from a file or from the command line. */
/* SPDX-License-Identifier: MIT */
/* memmem, strndup, asprintf, fmemopen, open_memstream: glibc extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WORKERS 10000
#define MAX_FILE_SIZE (1 << 20)
#define MAX_PROBLEMS 100
#define MAX_DEPTH 8 /* sections in sections: segue uses one level */
#define NAME_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
#define COMMAND_LINE "command line"

static const char *const ready_names[] = { "notify", "delay", "exec", NULL };
static const char *const reload_names[] = { "all-at-once", "rolling", NULL };
static const char *const stdout_names[] = { "inherit", "capture", NULL };
static const char *const kill_mode_names[] = { "group", "process", NULL };
static const char *const log_format_names[] = { "logfmt", "json", NULL };
static const char *const fd_protocol_names[] = { "einhorn", "server-starter",
						 NULL };

/* ---- memory: running out is fatal ---- */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		abort();
	return p;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		abort();
	p = realloc(p, n * size > 0 ? n * size : 1);
	if (p == NULL)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s != NULL ? s : "");

	if (p == NULL)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---- problems, collected and printed sorted by line ---- */

struct problem {
	int line;
	size_t seq;
	char *text;
};

struct layout;

struct ctx {
	const char *where; /* the file name as given, or "command line" */
	FILE *errors;
	struct layout *lay; /* where keys are; NULL in quick mode */
	int last_line; /* the last line holding more than blanks and comments */
	size_t nproblems;
	struct problem *problems;
	size_t dropped; /* problems beyond MAX_PROBLEMS */
};

static void problem(struct ctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct ctx *x, int line, const char *fmt, ...)
{
	struct problem *p;
	va_list ap;
	char *msg;

	if (x->nproblems >= MAX_PROBLEMS) {
		x->dropped++;
		return;
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	x->problems = xrealloc(x->problems, x->nproblems + 1, sizeof(*p));
	p = &x->problems[x->nproblems];
	p->line = line;
	p->seq = x->nproblems++;
	if (line > 0)
		p->text = xasprintf("%s:%d: %s", x->where, line, msg);
	else
		p->text = xasprintf("%s: %s", x->where, msg);
	free(msg);
}

static int problem_order(const void *a, const void *b)
{
	const struct problem *p = a, *q = b;

	if (p->line != q->line)
		return p->line < q->line ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Prints the problems found so far; returns how many there were. */
static size_t flush_problems(struct ctx *x)
{
	size_t i, n = x->nproblems, dropped = x->dropped;

	if (n > 0)
		qsort(x->problems, n, sizeof(*x->problems), problem_order);
	for (i = 0; i < n; i++) {
		fprintf(x->errors, "%s\n", x->problems[i].text);
		free(x->problems[i].text);
	}
	if (dropped > 0)
		fprintf(x->errors, "%s: %zu more problems not shown\n",
			x->where, dropped);
	fflush(x->errors);
	free(x->problems);
	x->problems = NULL;
	x->nproblems = x->dropped = 0;
	return n + dropped;
}

/* ---- where every key is: a light scan of the comment-free text ---- */

struct item {
	char *text;
	int line;
};

struct entry {
	int section; /* index into layout.sections, -1 for global keys */
	char *key;
	int line;
	size_t nitems;
	struct item *items;
};

struct section {
	char *kind;
	char *title;
	int line;
};

struct layout {
	size_t nsections;
	struct section *sections;
	size_t nentries;
	struct entry *entries;
};

static void free_layout(struct layout *lay)
{
	size_t i, j;

	for (i = 0; i < lay->nsections; i++) {
		free(lay->sections[i].kind);
		free(lay->sections[i].title);
	}
	for (i = 0; i < lay->nentries; i++) {
		for (j = 0; j < lay->entries[i].nitems; j++)
			free(lay->entries[i].items[j].text);
		free(lay->entries[i].items);
		free(lay->entries[i].key);
	}
	free(lay->sections);
	free(lay->entries);
}

static int find_section(const struct layout *lay, const char *kind,
			const char *title)
{
	size_t i;

	for (i = 0; i < lay->nsections; i++)
		if (strcmp(lay->sections[i].kind, kind) == 0 &&
		    strcmp(lay->sections[i].title, title) == 0)
			return (int)i;
	return -1;
}

static struct entry *find_entry(const struct layout *lay, int section,
				const char *key)
{
	size_t i;

	for (i = 0; i < lay->nentries; i++)
		if (lay->entries[i].section == section &&
		    strcmp(lay->entries[i].key, key) == 0)
			return &lay->entries[i];
	return NULL;
}

/* The line of `key` in section KIND "TITLE" (kind NULL: a global key), else
 * of the section, else 0. */
static int key_line(const struct ctx *x, const char *kind, const char *title,
		    const char *key)
{
	const struct entry *e;
	int sec = -1;

	if (x->lay == NULL)
		return 0;
	if (kind != NULL && (sec = find_section(x->lay, kind, title)) < 0)
		return 0;
	if (key != NULL && (e = find_entry(x->lay, sec, key)) != NULL)
		return e->line;
	return sec >= 0 ? x->lay->sections[sec].line : 0;
}

/* The line of the nth list item `value` of `key`, else the key's line. */
static int item_line(const struct ctx *x, const char *kind, const char *title,
		     const char *key, const char *value, int nth)
{
	const struct entry *e;
	int sec = -1;
	size_t i;

	if (x->lay == NULL)
		return 0;
	if (kind != NULL && (sec = find_section(x->lay, kind, title)) < 0)
		return 0;
	if ((e = find_entry(x->lay, sec, key)) != NULL)
		for (i = 0; i < e->nitems; i++)
			if (strcmp(e->items[i].text, value) == 0 && nth-- == 0)
				return e->items[i].line;
	return key_line(x, kind, title, key);
}

/* ---- comments ---- */

static void blank(char *buf, size_t from, size_t to)
{
	for (; from < to; from++)
		if (buf[from] != '\n')
			buf[from] = ' ';
}

/* Offset just past the quoted string that starts at buf[pos], counting
 * newlines in *line; len when it is not closed. Escapes as libconfuse's. */
static size_t skip_quoted(const char *buf, size_t len, size_t pos, int *line,
			  bool *closed)
{
	char q = buf[pos++];

	*closed = false;
	for (; pos < len; pos++) {
		if (buf[pos] == '\n')
			(*line)++;
		if (buf[pos] == q) {
			*closed = true;
			return pos + 1;
		}
		if (buf[pos] == '\\' && pos + 1 < len &&
		    (q == '"' || buf[pos + 1] == '\\' ||
		     buf[pos + 1] == '\'')) {
			pos++;
			if (buf[pos] == '\n')
				(*line)++;
		}
	}
	return len;
}

static bool is_delim(char c)
{
	return c == '\0' || strchr(" \t\r\n\v\f\"'={}()+,#", c) != NULL;
}

/* Length of the comment starting at buf[pos], or 0 if none starts there.
 * "//" only starts a comment where a token may start, as in libconfuse
 * ("/srv//app" is one word); "#" and "/ *" start one anywhere. */
static size_t comment_length(const char *buf, size_t len, size_t pos,
			     bool *closed)
{
	const char *end;

	*closed = true;
	if (buf[pos] == '#' ||
	    (buf[pos] == '/' && pos + 1 < len && buf[pos + 1] == '/' &&
	     (pos == 0 || is_delim(buf[pos - 1])))) {
		end = memchr(buf + pos, '\n', len - pos);
		return end != NULL ? (size_t)(end - buf) - pos : len - pos;
	}
	if (buf[pos] == '/' && pos + 1 < len && buf[pos + 1] == '*') {
		end = memmem(buf + pos + 2, len - pos - 2, "*/", 2);
		if (end != NULL)
			return (size_t)(end - buf) + 2 - pos;
		*closed = false;
		return len - pos;
	}
	return 0;
}

/* Blanks every comment outside quoted strings, keeping newlines, so that
 * libconfuse counts lines right. Returns false on an unclosed comment. */
static bool strip_comments(struct ctx *x, char *buf, size_t len)
{
	size_t pos = 0, n;
	int line = 1;
	bool closed;

	while (pos < len) {
		if (buf[pos] == '"' || buf[pos] == '\'') {
			pos = skip_quoted(buf, len, pos, &line, &closed);
			continue;
		}
		n = comment_length(buf, len, pos, &closed);
		if (n == 0) {
			line += buf[pos++] == '\n';
			continue;
		}
		if (!closed) {
			problem(x, line, "\"/*\" comment is never closed");
			return false;
		}
		for (; n > 0; n--, pos++) {
			line += buf[pos] == '\n';
			if (buf[pos] != '\n')
				buf[pos] = ' ';
		}
	}
	return true;
}

/* ---- a lexer and scanner shaped like libconfuse's grammar ---- */

enum tok_type { TOK_EOF, TOK_WORD, TOK_STRING, TOK_PUNCT, TOK_BAD };

struct token {
	enum tok_type type;
	char punct; /* { } ( ) = , and '+' for "+=" */
	const char *text;
	size_t len;
	size_t begin, end;
	int line;
};

struct scanner {
	struct ctx *x;
	char *buf;
	size_t len, pos;
	int line;
	bool have_back;
	struct token back;
	int depth; /* of nested sections */
	bool broken; /* too broken to hand to libconfuse */
};

static void lex_quoted(struct scanner *s, struct token *t)
{
	bool closed;
	size_t end = skip_quoted(s->buf, s->len, s->pos, &s->line, &closed);

	t->type = closed ? TOK_STRING : TOK_BAD;
	t->text = s->buf + s->pos + 1;
	t->len = closed ? end - s->pos - 2 : 0;
	s->pos = t->end = end;
}

static void lex_next(struct scanner *s, struct token *t)
{
	const char *b = s->buf;

	if (s->have_back) {
		*t = s->back;
		s->have_back = false;
		return;
	}
	for (; s->pos < s->len && isspace((unsigned char)b[s->pos]); s->pos++)
		s->line += b[s->pos] == '\n';
	memset(t, 0, sizeof(*t));
	t->line = s->line;
	t->begin = t->end = s->pos;
	if (s->pos >= s->len)
		return;
	if (b[s->pos] == '"' || b[s->pos] == '\'') {
		lex_quoted(s, t);
		return;
	}
	t->type = TOK_PUNCT;
	t->punct = b[s->pos];
	if (b[s->pos] == '+' && s->pos + 1 < s->len && b[s->pos + 1] == '=')
		s->pos++;
	else if (b[s->pos] == '+')
		t->punct = '?';
	if (is_delim(b[s->pos])) {
		t->end = ++s->pos;
		return;
	}
	t->type = TOK_WORD;
	t->text = b + s->pos;
	while (s->pos < s->len && !is_delim(b[s->pos]))
		s->pos++;
	t->len = (size_t)(b + s->pos - t->text);
	t->end = s->pos;
}

static void lex_back(struct scanner *s, const struct token *t)
{
	s->back = *t;
	s->have_back = true;
}

static bool is_punct(const struct token *t, char c)
{
	return t->type == TOK_PUNCT && t->punct == c;
}

static bool is_value(const struct token *t)
{
	return t->type == TOK_WORD || t->type == TOK_STRING;
}

static cfg_opt_t *find_opt(cfg_opt_t *opts, const char *name)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

static char *token_text(const struct token *t)
{
	return xstrndup(t->text, t->len);
}

/* An unclosed string or brace: report it once, stop the scan. */
static size_t scan_broken(struct scanner *s, const struct token *t,
			  const struct token *open)
{
	if (t->type == TOK_BAD)
		problem(s->x, t->line, "string is never closed");
	else
		problem(s->x, open->line, "\"{\" is never closed");
	s->broken = true;
	return s->len;
}

static void report_unknown(struct scanner *s, int sec, const char *what,
			   const char *name, int line)
{
	const struct section *in = sec >= 0 ? &s->x->lay->sections[sec] : NULL;

	if (in != NULL)
		problem(s->x, line, "unknown %s \"%s\" in %s \"%s\"", what,
			name, in->kind, in->title);
	else
		problem(s->x, line, "unknown %s \"%s\"", what, name);
}

static struct entry *set_entry(struct layout *lay, int sec, char *key, int line,
			       bool append)
{
	struct entry *e = find_entry(lay, sec, key);
	size_t i;

	if (e != NULL) {
		free(key);
		if (!append) {
			for (i = 0; i < e->nitems; i++)
				free(e->items[i].text);
			e->nitems = 0;
		}
	} else {
		lay->entries =
			xrealloc(lay->entries, lay->nentries + 1, sizeof(*e));
		e = &lay->entries[lay->nentries++];
		memset(e, 0, sizeof(*e));
		e->section = sec;
		e->key = key;
	}
	e->line = line;
	return e;
}

static void add_item(struct entry *e, const struct token *t)
{
	if (e == NULL)
		return;
	e->items = xrealloc(e->items, e->nitems + 1, sizeof(*e->items));
	e->items[e->nitems].text = token_text(t);
	e->items[e->nitems++].line = t->line;
}

/* After "{" of a list: the items up to "}". Returns the end offset. */
static size_t scan_list(struct scanner *s, struct entry *e,
			const struct token *open)
{
	struct token t;

	for (;;) {
		lex_next(s, &t);
		if (t.type == TOK_EOF || t.type == TOK_BAD)
			return scan_broken(s, &t, open);
		if (is_punct(&t, '}'))
			return t.end;
		if (is_punct(&t, '=') || is_punct(&t, '{')) {
			lex_back(s, &t); /* a syntax error for libconfuse */
			return t.begin;
		}
		if (is_value(&t))
			add_item(e, &t);
	}
}

/* After KEY "=" or KEY "+=": records the key and its values, or reports
 * and blanks it when opts (the keys valid here) does not know it. */
static void scan_assign(struct scanner *s, int sec, cfg_opt_t *opts,
			const struct token *key, const struct token *op)
{
	char *name = token_text(key);
	cfg_opt_t *o = find_opt(opts, name);
	bool unknown = opts != NULL && o == NULL;
	struct entry *e = NULL;
	struct token v;
	size_t end = op->end;

	if (opts != NULL && o != NULL)
		e = set_entry(s->x->lay, sec, xstrdup(name), key->line,
			      op->punct == '+');
	lex_next(s, &v);
	if (is_punct(&v, '{')) {
		end = scan_list(s, e, &v);
	} else if (is_value(&v)) {
		add_item(e, &v);
		end = v.end;
	} else {
		lex_back(s, &v);
	}
	if (unknown && !s->broken) {
		report_unknown(s, sec, "key", name, key->line);
		blank(s->buf, key->begin, end);
	}
	free(name);
}

/* NAME "(" ... ")": libconfuse functions; segue defines none. */
static void scan_call(struct scanner *s, int sec, cfg_opt_t *opts,
		      const struct token *name)
{
	struct token t;
	char *text;

	do
		lex_next(s, &t);
	while (t.type != TOK_EOF && t.type != TOK_BAD && !is_punct(&t, ')'));
	if (t.type == TOK_BAD) {
		scan_broken(s, &t, NULL);
		return;
	}
	if (opts != NULL) {
		text = token_text(name);
		report_unknown(s, sec, "key", text, name->line);
		blank(s->buf, name->begin, t.end);
		free(text);
	}
}

static size_t scan_block(struct scanner *s, int sec, cfg_opt_t *opts,
			 const struct token *open);

static size_t nested_block(struct scanner *s, int sec, cfg_opt_t *opts,
			   const struct token *open)
{
	size_t end;

	s->depth++;
	end = scan_block(s, sec, opts, open);
	s->depth--;
	return end;
}

static void scan_section(struct scanner *s, int sec, cfg_opt_t *opts,
			 const struct token *kind, const struct token *title,
			 const struct token *open)
{
	struct layout *lay = s->x->lay;
	char *k = token_text(kind), *ti;
	cfg_opt_t *o = find_opt(opts, k);
	int dup;

	if (s->depth >= MAX_DEPTH) {
		problem(s->x, kind->line, "sections nested too deeply");
		s->broken = true;
		free(k);
		return;
	}
	if (opts == NULL || title == NULL) { /* libconfuse will complain */
		nested_block(s, -1, NULL, open);
		free(k);
		return;
	}
	ti = token_text(title);
	if (o == NULL || o->type != CFGT_SEC) {
		report_unknown(s, sec, "section", k, kind->line);
	} else if ((dup = find_section(lay, k, ti)) >= 0) {
		problem(s->x, kind->line,
			"duplicate %s \"%s\" (first on line %d)", k, ti,
			lay->sections[dup].line);
	} else {
		lay->sections = xrealloc(lay->sections, lay->nsections + 1,
					 sizeof(*lay->sections));
		lay->sections[lay->nsections] =
			(struct section){ k, ti, kind->line };
		nested_block(s, (int)lay->nsections++, o->subopts, open);
		return;
	}
	blank(s->buf, kind->begin, nested_block(s, -1, NULL, open));
	free(k);
	free(ti);
}

/* One statement, whose first token is t. */
static void scan_statement(struct scanner *s, int sec, cfg_opt_t *opts,
			   const struct token *t)
{
	struct token t2, t3;

	lex_next(s, &t2);
	if (is_punct(&t2, '=') || is_punct(&t2, '+')) {
		scan_assign(s, sec, opts, t, &t2);
	} else if (is_punct(&t2, '(')) {
		scan_call(s, sec, opts, t);
	} else if (is_punct(&t2, '{')) {
		scan_section(s, sec, opts, t, NULL, &t2);
	} else if (is_value(&t2)) {
		lex_next(s, &t3);
		if (is_punct(&t3, '{'))
			scan_section(s, sec, opts, t, &t2, &t3);
		else
			lex_back(s, &t3);
	} else {
		lex_back(s, &t2);
	}
}

/* Statements up to the "}" matching open (NULL: to the end). Returns the
 * offset after that "}". */
static size_t scan_block(struct scanner *s, int sec, cfg_opt_t *opts,
			 const struct token *open)
{
	struct token t;

	while (!s->broken) {
		lex_next(s, &t);
		if (t.type == TOK_BAD || (t.type == TOK_EOF && open != NULL))
			return scan_broken(s, &t, open);
		if (t.type == TOK_EOF)
			return t.end;
		if (is_punct(&t, '}') && open != NULL)
			return t.end;
		if (is_value(&t))
			scan_statement(s, sec, opts, &t);
	}
	return s->len;
}

/* The number of the last line that holds something besides blanks. */
static int last_line(const char *buf, size_t len)
{
	int line = 1, last = 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n')
			line++;
		else if (!isspace((unsigned char)buf[i]))
			last = line;
	}
	return last;
}

/* Strips comments and records where each key is. Unknown keys and
 * sections and duplicate sections are reported and blanked, so libconfuse
 * goes on to find the other problems. Returns false when the text cannot
 * be parsed at all. */
static bool prepare(struct ctx *x, char *buf, size_t len, cfg_opt_t *root)
{
	struct scanner s = { .x = x, .buf = buf, .len = len, .line = 1 };
	const char *nul = memchr(buf, '\0', len);
	int line = 1;

	if (nul != NULL) {
		for (; buf < nul; buf++)
			line += *buf == '\n';
		problem(x, line, "NUL byte: not a text file");
		return false;
	}
	if (!strip_comments(x, buf, len))
		return false;
	x->last_line = last_line(buf, len);
	scan_block(&s, -1, root, NULL);
	return !s.broken;
}

/* ---- libconfuse ---- */

/* libconfuse's error callback has no user pointer: the context of the one
 * parse running (libconfuse's lexer is not reentrant either). */
static struct ctx *parse_ctx;

/* Extracts NAME from a message "BEFORE" NAME "AFTER". */
static bool match_message(const char *msg, const char *before,
			  const char *after, char *name, size_t len)
{
	size_t nb = strlen(before), na = strlen(after), nm = strlen(msg);

	if (nm < nb + na || strncmp(msg, before, nb) != 0 ||
	    strcmp(msg + nm - na, after) != 0 || nm - nb - na >= len)
		return false;
	memcpy(name, msg + nb, nm - nb - na);
	name[nm - nb - na] = '\0';
	return true;
}

static void confuse_message(struct ctx *x, int line, const char *in,
			    const char *title, const char *msg)
{
	char name[256], pre[300] = "";

	if (in != NULL && title != NULL)
		snprintf(pre, sizeof(pre), "%s \"%s\": ", in, title);
	if (strcmp(msg, "premature end of file") == 0 && x->last_line > 0) {
		/* libconfuse counts the blank lines at the end too */
		problem(x, x->last_line, "%sunexpected end of file", pre);
		return;
	}
	if (match_message(msg, "no such option '", "'", name, sizeof(name)) &&
	    *pre != '\0')
		problem(x, line, "unknown key \"%s\" in %s \"%s\"", name, in,
			title);
	else if (match_message(msg, "no such option '", "'", name,
			       sizeof(name)))
		problem(x, line, "unknown key \"%s\"", name);
	else if (match_message(msg, "invalid integer value for option '", "'",
			       name, sizeof(name)))
		problem(x, line, "%s%s: not an integer", pre, name);
	else if (match_message(msg, "integer value for option '",
			       "' is out of range", name, sizeof(name)))
		problem(x, line, "%s%s: number out of range", pre, name);
	else if (match_message(msg, "invalid boolean value for option '", "'",
			       name, sizeof(name)))
		problem(x, line, "%s%s: not a boolean (true or false)", pre,
			name);
	else
		problem(x, line, "%s%s", pre, msg);
}

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	const char *in = NULL, *title = NULL;

	if (parse_ctx == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg != NULL && cfg->title != NULL) {
		in = cfg->name;
		title = cfg->title;
	}
	confuse_message(parse_ctx, cfg != NULL ? cfg->line : 0, in, title, msg);
}

/* The option tables, with the defaults from the command line. Each holds
 * its keys and CFG_END(), with room to spare: check the sizes when adding
 * keys. */
struct opts {
	cfg_opt_t socket[12];
	cfg_opt_t program[24];
	cfg_opt_t root[12];
	char *fd_protocol;
};

/* "einhorn,server-starter" (already checked) as a libconfuse list. */
static char *protocol_list(const char *csv)
{
	char *out = xstrdup("{"), *tmp;
	const char *p = csv != NULL ? csv : "";
	size_t n;

	for (; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n == 0)
			continue;
		tmp = xasprintf("%s%s\"%.*s\"", out, out[1] ? "," : "", (int)n,
				p);
		free(out);
		out = tmp;
	}
	tmp = xasprintf("%s}", out);
	free(out);
	return tmp;
}

static const char *either(const char *a, const char *b)
{
	return a != NULL ? a : b;
}

static void build_socket_opts(cfg_opt_t *o)
{
	int i = 0;

	o[i++] = (cfg_opt_t)CFG_STR("listen", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("backlog", 1024, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_BOOL("reuseport", cfg_false, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_BOOL("v6only", cfg_false, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_BOOL("nodelay", cfg_false, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("mode", "0660", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("owner", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("group", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_END();
}

static void build_program_opts(cfg_opt_t *o, const struct config_defaults *d,
			       char *fd_protocol)
{
	int i = 0;

	o[i++] = (cfg_opt_t)CFG_STR("command", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("directory", either(d->directory, ""),
				    CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("sockets", "{}", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("workers", d->workers > 0 ? d->workers : 1,
				    CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("user", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("group", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("env", "{}", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("fd-protocol", fd_protocol, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready", either(d->ready, "delay"),
				    CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-delay", either(d->ready_delay, "1s"),
				    CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-command", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-timeout",
				    either(d->ready_timeout, "60s"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("drain-signal",
				    either(d->drain_signal, "TERM"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("drain-timeout",
				    either(d->drain_timeout, "30s"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("kill-mode", "group", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("reload", "all-at-once", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("max-surge", 1, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("restart-delay", "100ms", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("restart-max-delay", "30s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("stdout", "inherit", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_END();
}

static void build_opts(struct opts *o, const struct config_defaults *d)
{
	const int sec = CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES;
	cfg_opt_t *r = o->root;
	int i = 0;

	o->fd_protocol = protocol_list(d->fd_protocol);
	build_socket_opts(o->socket);
	build_program_opts(o->program, d, o->fd_protocol);
	r[i++] = (cfg_opt_t)CFG_STR("control", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("control-mode", "0600", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("control-group", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("pidfile", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("log-format", "logfmt", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("log-file", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("statsd", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("hook", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_BOOL("fdstore", cfg_false, CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_SEC("socket", o->socket, sec);
	r[i++] = (cfg_opt_t)CFG_SEC("program", o->program, sec);
	r[i++] = (cfg_opt_t)CFG_END();
}

static cfg_t *new_cfg(struct opts *o)
{
	cfg_t *cfg = cfg_init(o->root, CFGF_NONE);

	if (cfg == NULL)
		abort();
	cfg_set_error_function(cfg, confuse_error);
	return cfg;
}

static cfg_t *parse_text(struct ctx *x, struct opts *o, char *buf, size_t len)
{
	cfg_t *cfg = new_cfg(o);
	FILE *f;
	int rc;

	free(cfg->filename);
	cfg->filename = xstrdup(x->where);
	if (len == 0)
		return cfg;
	/* Not cfg_parse_buf(): it names the file "[buf]" in messages. */
	f = fmemopen(buf, len, "r");
	if (f == NULL)
		abort();
	parse_ctx = x;
	rc = cfg_parse_fp(cfg, f);
	parse_ctx = NULL;
	fclose(f);
	if (rc == CFG_SUCCESS)
		return cfg;
	cfg_free(cfg);
	return NULL;
}

/* ---- reading values, with messages naming the key and its line ---- */

struct scope {
	struct ctx *x;
	cfg_t *cfg;
	const char *kind; /* "socket", "program", or NULL for global keys */
	const char *title;
};

static void complain(const struct scope *sc, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void complain(const struct scope *sc, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (sc->kind != NULL)
		problem(sc->x, line, "%s \"%s\": %s", sc->kind, sc->title, msg);
	else
		problem(sc->x, line, "%s", msg);
	free(msg);
}

static int kline(const struct scope *sc, const char *key)
{
	return key_line(sc->x, sc->kind, sc->title, key);
}

static const char *str(const struct scope *sc, const char *key)
{
	const char *v = cfg_getstr(sc->cfg, key);

	return v != NULL ? v : "";
}

static char *get_str(const struct scope *sc, const char *key)
{
	return xstrdup(str(sc, key));
}

static double get_duration(const struct scope *sc, const char *key)
{
	double v = 0;

	if (parse_duration(str(sc, key), &v) < 0)
		complain(sc, kline(sc, key), "%s: bad duration \"%s\"", key,
			 str(sc, key));
	return v;
}

static int get_signal(const struct scope *sc, const char *key)
{
	int sig = parse_signal(str(sc, key));

	if (sig < 0)
		complain(sc, kline(sc, key), "%s: bad signal \"%s\"", key,
			 str(sc, key));
	return sig;
}

static mode_t get_mode(const struct scope *sc, const char *key)
{
	mode_t m = 0;

	if (parse_mode(str(sc, key), &m) < 0)
		complain(sc, kline(sc, key),
			 "%s: bad mode \"%s\" (octal, up to 7777)", key,
			 str(sc, key));
	return m;
}

static int get_int(const struct scope *sc, const char *key, long min, long max)
{
	long v = cfg_getint(sc->cfg, key);

	if (v < min)
		complain(sc, kline(sc, key), "%s: must be at least %ld", key,
			 min);
	else if (v > max)
		complain(sc, kline(sc, key), "%s: must be at most %ld", key,
			 max);
	return v < min ? (int)min : v > max ? (int)max : (int)v;
}

static int enum_index(const char *const names[], const char *s)
{
	int i;

	for (i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "notify, delay or exec" */
static void enum_choices(const char *const names[], char *buf, size_t len)
{
	size_t i, used = 0;

	const char *sep;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && used < len; i++) {
		sep = i == 0 ? "" : names[i + 1] != NULL ? ", " : " or ";
		used += (size_t)snprintf(buf + used, len - used, "%s%s", sep,
					 names[i]);
	}
}

static int get_enum(const struct scope *sc, const char *key,
		    const char *const names[])
{
	int i = enum_index(names, str(sc, key));
	char choices[128];

	if (i >= 0)
		return i;
	enum_choices(names, choices, sizeof(choices));
	complain(sc, kline(sc, key), "%s: bad value \"%s\" (%s)", key,
		 str(sc, key), choices);
	return 0;
}

static char *get_user(const struct scope *sc, const char *key)
{
	char *v = get_str(sc, key);

	if (*v != '\0' && getpwnam(v) == NULL)
		complain(sc, kline(sc, key), "%s: unknown user \"%s\"", key, v);
	return v;
}

static char *get_group(const struct scope *sc, const char *key)
{
	char *v = get_str(sc, key);

	if (*v != '\0' && getgrnam(v) == NULL)
		complain(sc, kline(sc, key), "%s: unknown group \"%s\"", key,
			 v);
	return v;
}

static char **get_list(const struct scope *sc, const char *key, size_t *n)
{
	size_t i, count = cfg_size(sc->cfg, key);
	char **v = xcalloc(count, sizeof(*v));

	for (i = 0; i < count; i++)
		v[i] = xstrdup(cfg_getnstr(sc->cfg, key, (unsigned)i));
	*n = count;
	return v;
}

/* How many earlier entries of list equal list[i]. */
static int occurrence(char *const list[], size_t i)
{
	int n = 0;
	size_t j;

	for (j = 0; j < i; j++)
		n += strcmp(list[j], list[i]) == 0;
	return n;
}

static bool valid_name(const char *s)
{
	return *s != '\0' && strspn(s, NAME_CHARS) == strlen(s);
}

static void check_name(const struct scope *sc)
{
	if (!valid_name(sc->title))
		complain(
			sc, kline(sc, NULL),
			"name may hold only letters, digits, \"_\", \".\" and \"-\"");
}

/* ---- sockets ---- */

static void load_address(const struct scope *sc, const char *v,
			 struct address *addr)
{
	char err[128];

	if (*v == '\0')
		complain(sc, kline(sc, "listen"), "listen is required");
	else if (parse_address(v, addr, err, sizeof(err)) < 0)
		complain(sc, kline(sc, "listen"),
			 "listen: bad address \"%s\": %s", v, err);
}

static void load_socket(struct ctx *x, cfg_t *sec, struct socket_conf *s)
{
	struct scope sc = { x, sec, "socket", cfg_title(sec) };

	s->name = xstrdup(sc.title);
	s->line = kline(&sc, NULL);
	check_name(&sc);
	s->listen = get_str(&sc, "listen");
	load_address(&sc, s->listen, &s->addr);
	s->backlog = get_int(&sc, "backlog", 1, INT_MAX);
	s->reuseport = cfg_getbool(sec, "reuseport");
	s->v6only = cfg_getbool(sec, "v6only");
	s->nodelay = cfg_getbool(sec, "nodelay");
	s->mode = get_mode(&sc, "mode");
	s->owner = get_user(&sc, "owner");
	s->group = get_group(&sc, "group");
}

/* ---- programs ---- */

static bool valid_env(const char *s)
{
	size_t n = strcspn(s, "=");

	if (s[n] != '=' || n == 0 || isdigit((unsigned char)s[0]))
		return false;
	while (n-- > 0)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_')
			return false;
	return true;
}

static void load_env(const struct scope *sc, struct program_conf *p)
{
	size_t i;

	p->env = get_list(sc, "env", &p->nenv);
	for (i = 0; i < p->nenv; i++)
		if (!valid_env(p->env[i]))
			complain(sc,
				 item_line(sc->x, sc->kind, sc->title, "env",
					   p->env[i], occurrence(p->env, i)),
				 "env: bad entry \"%s\" (KEY=VALUE)",
				 p->env[i]);
}

static void load_protocols(const struct scope *sc, struct program_conf *p)
{
	size_t i, n = cfg_size(sc->cfg, "fd-protocol");
	const char *v;
	char choices[64];
	int k;

	for (i = 0; i < n; i++) {
		v = cfg_getnstr(sc->cfg, "fd-protocol", (unsigned)i);
		if ((k = enum_index(fd_protocol_names, v)) >= 0) {
			p->fd_protocols |= 1u << k;
			continue;
		}
		enum_choices(fd_protocol_names, choices, sizeof(choices));
		complain(sc,
			 item_line(sc->x, sc->kind, sc->title, "fd-protocol", v,
				   0),
			 "fd-protocol: bad value \"%s\" (%s)", v, choices);
	}
}

static void load_program_run(const struct scope *sc, struct program_conf *p)
{
	p->command = get_str(sc, "command");
	p->directory = get_str(sc, "directory");
	p->sockets = get_list(sc, "sockets", &p->nsockets);
	p->socket_index = xcalloc(p->nsockets, sizeof(*p->socket_index));
	p->workers = get_int(sc, "workers", 1, MAX_WORKERS);
	p->user = get_user(sc, "user");
	p->group = get_group(sc, "group");
	load_env(sc, p);
	load_protocols(sc, p);
}

static void load_program_ready(const struct scope *sc, struct program_conf *p)
{
	p->ready = (enum ready_mode)get_enum(sc, "ready", ready_names);
	p->ready_delay = get_duration(sc, "ready-delay");
	p->ready_command = get_str(sc, "ready-command");
	p->ready_timeout = get_duration(sc, "ready-timeout");
	p->drain_signal = get_signal(sc, "drain-signal");
	p->drain_timeout = get_duration(sc, "drain-timeout");
	p->kill_mode =
		(enum kill_mode)get_enum(sc, "kill-mode", kill_mode_names);
	p->reload = (enum reload_mode)get_enum(sc, "reload", reload_names);
	p->max_surge = get_int(sc, "max-surge", 1, MAX_WORKERS);
	p->restart_delay = get_duration(sc, "restart-delay");
	p->restart_max_delay = get_duration(sc, "restart-max-delay");
	p->stdout_mode = (enum stdout_mode)get_enum(sc, "stdout", stdout_names);
}

static bool blank_string(const char *s)
{
	return s[strspn(s, " \t\r\n\v\f")] == '\0';
}

static void check_program(const struct scope *sc, const struct program_conf *p)
{
	double timeout;

	if (blank_string(p->command))
		complain(sc, kline(sc, "command"), "command is required");
	if (p->ready == READY_EXEC && blank_string(p->ready_command))
		complain(sc, kline(sc, "ready"),
			 "ready = \"exec\" needs a ready-command");
	if (parse_duration(str(sc, "ready-timeout"), &timeout) == 0 &&
	    timeout <= 0)
		complain(sc, kline(sc, "ready-timeout"),
			 "ready-timeout: must be more than 0");
	if (p->restart_max_delay < p->restart_delay)
		complain(
			sc, kline(sc, "restart-max-delay"),
			"restart-max-delay must not be less than restart-delay");
}

static void load_program(struct ctx *x, cfg_t *sec, struct program_conf *p)
{
	struct scope sc = { x, sec, "program", cfg_title(sec) };

	p->name = xstrdup(sc.title);
	p->line = kline(&sc, NULL);
	check_name(&sc);
	load_program_run(&sc, p);
	load_program_ready(&sc, p);
	check_program(&sc, p);
}

/* ---- the whole config ---- */

/* The port of a TCP address, 0 for the others. */
static unsigned address_port(const struct address *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;

	if (a->kind != ADDR_TCP && a->kind != ADDR_TCP_ANY)
		return 0;
	if (a->sa.ss_family == AF_INET)
		return ntohs(sin->sin_port);
	if (a->sa.ss_family == AF_INET6)
		return ntohs(sin6->sin6_port);
	return 0;
}

static void load_statsd(const struct scope *sc, const char *v)
{
	struct address a;
	char err[128];

	if (*v == '\0')
		return;
	if (parse_address(v, &a, err, sizeof(err)) < 0)
		complain(sc, kline(sc, "statsd"),
			 "statsd: bad address \"%s\": %s", v, err);
	else if (a.kind != ADDR_TCP)
		complain(sc, kline(sc, "statsd"),
			 "statsd: bad address \"%s\": must be HOST:PORT", v);
	else if (address_port(&a) == 0)
		complain(sc, kline(sc, "statsd"),
			 "statsd: bad address \"%s\": port 0", v);
}

static void load_globals(struct ctx *x, cfg_t *cfg,
			 const struct config_defaults *d, struct config *c)
{
	struct scope sc = { x, cfg, NULL, NULL };

	c->control = xstrdup(either(d->control, str(&sc, "control")));
	c->control_mode = get_mode(&sc, "control-mode");
	c->control_group = get_group(&sc, "control-group");
	c->pidfile = xstrdup(either(d->pidfile, str(&sc, "pidfile")));
	if (d->log_format != NULL)
		c->log_format = (enum log_format)enum_index(log_format_names,
							    d->log_format);
	else
		c->log_format = (enum log_format)get_enum(&sc, "log-format",
							  log_format_names);
	c->log_file = get_str(&sc, "log-file");
	c->statsd = get_str(&sc, "statsd");
	load_statsd(&sc, c->statsd);
	c->hook = get_str(&sc, "hook");
	c->fdstore = cfg_getbool(cfg, "fdstore");
}

static void check_listen_dupes(struct ctx *x, const struct config *c)
{
	const struct socket_conf *a, *b;
	size_t i, j;

	for (j = 0; j < c->nsockets; j++) {
		b = &c->sockets[j];
		if (b->addr.kind == ADDR_TCP && address_port(&b->addr) == 0)
			continue; /* port 0: the kernel picks a new one each */
		for (i = 0; i < j; i++) {
			a = &c->sockets[i];
			if (*a->listen == '\0' ||
			    !address_equal(&a->addr, &b->addr))
				continue;
			problem(x, key_line(x, "socket", b->name, "listen"),
				"socket \"%s\": listen \"%s\" is already used by "
				"socket \"%s\"",
				b->name, b->listen, a->name);
			break;
		}
	}
}

static int socket_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsockets; i++)
		if (strcmp(c->sockets[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void resolve_sockets(struct ctx *x, struct config *c)
{
	struct program_conf *p;
	size_t i, k;
	int nth;

	for (i = 0; i < c->nprograms; i++) {
		p = &c->programs[i];
		for (k = 0; k < p->nsockets; k++) {
			p->socket_index[k] = socket_index(c, p->sockets[k]);
			nth = occurrence(p->sockets, k);
			if (p->socket_index[k] < 0)
				problem(x,
					item_line(x, "program", p->name,
						  "sockets", p->sockets[k],
						  nth),
					"program \"%s\": unknown socket \"%s\"",
					p->name, p->sockets[k]);
			else if (nth > 0)
				problem(x,
					item_line(x, "program", p->name,
						  "sockets", p->sockets[k],
						  nth),
					"program \"%s\": socket \"%s\" listed twice",
					p->name, p->sockets[k]);
		}
	}
}

static struct config *extract(struct ctx *x, cfg_t *cfg,
			      const struct config_defaults *d)
{
	struct config *c = xcalloc(1, sizeof(*c));
	size_t i;

	c->refs = 1;
	load_globals(x, cfg, d, c);
	c->nsockets = cfg_size(cfg, "socket");
	c->sockets = xcalloc(c->nsockets, sizeof(*c->sockets));
	for (i = 0; i < c->nsockets; i++)
		load_socket(x, cfg_getnsec(cfg, "socket", (unsigned)i),
			    &c->sockets[i]);
	c->nprograms = cfg_size(cfg, "program");
	c->programs = xcalloc(c->nprograms, sizeof(*c->programs));
	for (i = 0; i < c->nprograms; i++)
		load_program(x, cfg_getnsec(cfg, "program", (unsigned)i),
			     &c->programs[i]);
	if (c->nprograms == 0)
		problem(x, x->lay != NULL ? 1 : 0, "no program defined");
	check_listen_dupes(x, c);
	resolve_sockets(x, c);
	return c;
}

/* ---- command-line defaults ---- */

static void check_default_duration(struct ctx *x, const char *option,
				   const char *v, bool positive)
{
	double d;

	if (v == NULL)
		return;
	if (parse_duration(v, &d) < 0)
		problem(x, 0, "%s: bad duration \"%s\"", option, v);
	else if (positive && d <= 0)
		problem(x, 0, "%s: must be more than 0", option);
}

static void check_default_enum(struct ctx *x, const char *option, const char *v,
			       const char *const names[])
{
	char choices[128];

	if (v == NULL || enum_index(names, v) >= 0)
		return;
	enum_choices(names, choices, sizeof(choices));
	problem(x, 0, "%s: bad value \"%s\" (%s)", option, v, choices);
}

static void check_default_protocols(struct ctx *x, const char *csv)
{
	char *copy, *p, *save = NULL;

	if (csv == NULL)
		return;
	copy = xstrdup(csv);
	for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
		check_default_enum(x, "--fd-protocol", p, fd_protocol_names);
	free(copy);
}

/* Problems with command-line values, as "command line: --OPTION: ...". */
static size_t check_defaults(const struct config_defaults *d, FILE *errors)
{
	struct ctx x = { .where = COMMAND_LINE, .errors = errors };

	if (d->workers < 0 || d->workers > MAX_WORKERS)
		problem(&x, 0, "--workers: must be between 1 and %d",
			MAX_WORKERS);
	check_default_enum(&x, "--ready", d->ready, ready_names);
	check_default_duration(&x, "--ready-delay", d->ready_delay, false);
	check_default_duration(&x, "--ready-timeout", d->ready_timeout, true);
	if (d->drain_signal != NULL && parse_signal(d->drain_signal) < 0)
		problem(&x, 0, "--drain-signal: bad signal \"%s\"",
			d->drain_signal);
	check_default_duration(&x, "--drain-timeout", d->drain_timeout, false);
	check_default_protocols(&x, d->fd_protocol);
	check_default_enum(&x, "--log-format", d->log_format, log_format_names);
	return flush_problems(&x);
}

/* ---- config_load ---- */

static char *read_file(struct ctx *x, size_t *len)
{
	FILE *f = fopen(x->where, "re");
	size_t cap = 4096, n = 0;
	int err = 0;
	char *buf;

	if (f == NULL) {
		problem(x, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = xcalloc(cap + 1, 1);
	for (;;) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap >= MAX_FILE_SIZE)
			break;
		cap *= 2;
		buf = xrealloc(buf, cap + 1, 1);
	}
	if (ferror(f))
		err = errno ? errno : EIO;
	fclose(f);
	if (err != 0)
		problem(x, 0, "cannot read: %s", strerror(err));
	else if (n >= MAX_FILE_SIZE)
		problem(x, 0, "file too large");
	if (err != 0 || n >= MAX_FILE_SIZE) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *absolute_path(const char *file)
{
	char *cwd, *p;

	if (file[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(file);
	p = xasprintf("%s/%s", cwd, file);
	free(cwd);
	return p;
}

static struct config *load_text(struct ctx *x, char *buf, size_t len,
				const struct config_defaults *d)
{
	struct opts o;
	struct config *c = NULL;
	cfg_t *cfg;

	build_opts(&o, d);
	if (prepare(x, buf, len, o.root) &&
	    (cfg = parse_text(x, &o, buf, len)) != NULL) {
		c = extract(x, cfg, d);
		cfg_free(cfg);
	}
	free(o.fd_protocol);
	return c;
}

struct config *config_load(const char *file, const struct config_defaults *defs,
			   FILE *errors)
{
	static const struct config_defaults none;
	struct layout lay = { 0 };
	struct ctx x = { .where = file,
			 .lay = &lay,
			 .errors = errors != NULL ? errors : stderr };
	struct config *c = NULL;
	size_t len;
	char *buf;

	if (defs == NULL)
		defs = &none;
	if (check_defaults(defs, x.errors) > 0)
		return NULL;
	if ((buf = read_file(&x, &len)) != NULL) {
		c = load_text(&x, buf, len, defs);
		free(buf);
	}
	free_layout(&lay);
	if (flush_problems(&x) > 0 && c != NULL) {
		config_unref(c);
		c = NULL;
	}
	if (c != NULL)
		c->file = absolute_path(file);
	return c;
}

/* ---- config_quick ---- */

/* Appends arg to the command, quoted for /bin/sh where it needs it. */
static void shell_quote(FILE *out, const char *arg)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_@%+:,./-";

	if (*arg != '\0' && strspn(arg, safe) == strlen(arg)) {
		fputs(arg, out);
		return;
	}
	fputc('\'', out);
	for (; *arg != '\0'; arg++)
		if (*arg == '\'')
			fputs("'\\''", out);
		else
			fputc(*arg, out);
	fputc('\'', out);
}

static char *join_command(char *const argv[], size_t argc)
{
	char *cmd = NULL;
	size_t len = 0, i;
	FILE *out = open_memstream(&cmd, &len);

	if (out == NULL)
		abort();
	for (i = 0; i < argc; i++) {
		if (i > 0)
			fputc(' ', out);
		shell_quote(out, argv[i]);
	}
	if (fclose(out) != 0 || cmd == NULL)
		abort();
	return cmd;
}

/* "[NAME=]ADDR": the name, or listenN for the nth unnamed one. */
static char *listen_name(const char *entry, const char **addr, int *unnamed)
{
	size_t n = strcspn(entry, "=");

	if (entry[n] == '=' && n > 0 && strspn(entry, NAME_CHARS) == n) {
		*addr = entry + n + 1;
		return xstrndup(entry, n);
	}
	*addr = entry;
	return xasprintf("listen%d", (*unnamed)++);
}

static void add_quick_sockets(struct ctx *x, cfg_t *cfg, cfg_t *prog,
			      char *const listen[], size_t nlisten)
{
	const char *addr;
	char *name;
	cfg_t *sec;
	int unnamed = 0;
	size_t i;

	for (i = 0; i < nlisten; i++) {
		name = listen_name(listen[i], &addr, &unnamed);
		if (cfg_gettsec(cfg, "socket", name) != NULL) {
			problem(x, 0,
				"--listen: socket name \"%s\" given twice",
				name);
		} else if ((sec = cfg_addtsec(cfg, "socket", name)) == NULL ||
			   cfg_setstr(sec, "listen", addr) != CFG_SUCCESS ||
			   cfg_addlist(prog, "sockets", 1, name) !=
				   CFG_SUCCESS) {
			abort();
		}
		free(name);
	}
}

static struct config *quick_config(struct ctx *x, char *const listen[],
				   size_t nlisten, char *const argv[],
				   size_t argc, const struct config_defaults *d)
{
	struct opts o;
	struct config *c;
	cfg_t *cfg, *prog;
	char *cmd = join_command(argv, argc);

	build_opts(&o, d);
	cfg = new_cfg(&o);
	parse_ctx = x;
	prog = cfg_addtsec(cfg, "program", "app");
	if (prog == NULL || cfg_setstr(prog, "command", cmd) != CFG_SUCCESS)
		abort();
	add_quick_sockets(x, cfg, prog, listen, nlisten);
	parse_ctx = NULL;
	c = extract(x, cfg, d);
	cfg_free(cfg);
	free(cmd);
	free(o.fd_protocol);
	return c;
}

struct config *config_quick(char *const listen[], size_t nlisten,
			    char *const argv[], size_t argc,
			    const struct config_defaults *defs, FILE *errors)
{
	static const struct config_defaults none;
	struct ctx x = { .where = COMMAND_LINE,
			 .errors = errors != NULL ? errors : stderr };
	struct config *c = NULL;

	if (defs == NULL)
		defs = &none;
	if (check_defaults(defs, x.errors) > 0)
		return NULL;
	if (nlisten == 0)
		problem(&x, 0, "quick mode needs at least one --listen");
	if (argc == 0 || argv[0] == NULL)
		problem(&x, 0, "no command given (put it after --)");
	else if (*argv[0] == '\0')
		problem(&x, 0, "the command name is empty");
	if (x.nproblems == 0)
		c = quick_config(&x, listen, nlisten, argv, argc, defs);
	if (flush_problems(&x) > 0 && c != NULL) {
		config_unref(c);
		c = NULL;
	}
	return c;
}

/* ---- the object ---- */

struct config *config_ref(struct config *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_program(struct program_conf *p)
{
	free(p->name);
	free(p->command);
	free(p->directory);
	free_strings(p->sockets, p->nsockets);
	free(p->socket_index);
	free(p->user);
	free(p->group);
	free_strings(p->env, p->nenv);
	free(p->ready_command);
}

static void free_socket(struct socket_conf *s)
{
	free(s->name);
	free(s->listen);
	free(s->owner);
	free(s->group);
}

void config_unref(struct config *c)
{
	size_t i;

	if (c == NULL || --c->refs > 0)
		return;
	for (i = 0; i < c->nsockets; i++)
		free_socket(&c->sockets[i]);
	for (i = 0; i < c->nprograms; i++)
		free_program(&c->programs[i]);
	free(c->sockets);
	free(c->programs);
	free(c->file);
	free(c->control);
	free(c->control_group);
	free(c->pidfile);
	free(c->log_file);
	free(c->statsd);
	free(c->hook);
	free(c);
}

const struct socket_conf *config_socket(const struct config *c,
					const char *name)
{
	int i = socket_index(c, name);

	return i >= 0 ? &c->sockets[i] : NULL;
}

const struct program_conf *config_program(const struct config *c,
					  const char *name)
{
	size_t i;

	for (i = 0; i < c->nprograms; i++)
		if (strcmp(c->programs[i].name, name) == 0)
			return &c->programs[i];
	return NULL;
}

const char *ready_mode_name(enum ready_mode m)
{
	if ((unsigned)m < sizeof(ready_names) / sizeof(ready_names[0]) - 1)
		return ready_names[m];
	return "unknown";
}
