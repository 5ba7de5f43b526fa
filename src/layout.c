/* layout.c: a pure scanner of segue.conf text: comments blanked, and where each key is. */
/* SPDX-License-Identifier: MIT */
/* memmem: a glibc extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "layout.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- comments ---- */

void layout_blank(struct layout *lay, size_t begin, size_t end)
{
	for (; begin < end && begin < lay->len; begin++)
		if (lay->text[begin] != '\n')
			lay->text[begin] = ' ';
}

/* Offset just past the quoted string that starts at buf[pos], counting
 * newlines in *line; len when it is not closed. Escapes as libconfuse's:
 * in "..." a backslash escapes any byte, in '...' only \\ and \'. */
static size_t skip_quoted(const char *buf, size_t len, size_t pos, int *line, bool *closed)
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
		    (q == '"' || buf[pos + 1] == '\\' || buf[pos + 1] == '\'')) {
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
 * ("/srv//app" is one word); "#" and slash-star start one anywhere. */
static size_t comment_length(const char *buf, size_t len, size_t pos, bool *closed)
{
	const char *end;

	*closed = true;
	if (buf[pos] == '#' || (buf[pos] == '/' && pos + 1 < len && buf[pos + 1] == '/' &&
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

static void fail(struct layout *lay, int line, const char *why)
{
	if (lay->error == NULL) {
		lay->error = why;
		lay->error_line = line;
	}
}

/* Blanks every comment outside quoted strings, keeping newlines. */
static void blank_comments(struct layout *lay)
{
	size_t pos = 0, n;
	int line = 1;
	bool closed;

	while (pos < lay->len) {
		if (lay->text[pos] == '"' || lay->text[pos] == '\'') {
			pos = skip_quoted(lay->text, lay->len, pos, &line, &closed);
			continue;
		}
		n = comment_length(lay->text, lay->len, pos, &closed);
		if (n == 0) {
			line += lay->text[pos++] == '\n';
			continue;
		}
		if (!closed) {
			fail(lay, line, "\"/*\" comment is never closed");
			return;
		}
		for (; n > 0; n--, pos++) {
			line += lay->text[pos] == '\n';
			if (lay->text[pos] != '\n')
				lay->text[pos] = ' ';
		}
	}
}

/* The number of the last line that holds something besides blanks. */
static int last_line(const char *buf, size_t len)
{
	int line = 1, last = 1;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			line++;
		else if (!isspace((unsigned char)buf[i]))
			last = line;
	}
	return last;
}

/* ---- a lexer shaped like libconfuse's ---- */

enum tok_type { TOK_EOF, TOK_WORD, TOK_STRING, TOK_PUNCT, TOK_BAD };

struct token {
	enum tok_type type;
	char punct;	   /* { } ( ) = , and '+' for "+=" */
	size_t text, len;  /* the word, or the string inside its quotes */
	size_t begin, end; /* the whole token */
	int line;
};

struct scanner {
	struct layout *lay;
	const char *buf;
	size_t len, pos;
	int line;
	bool have_back;
	struct token back;
	int depth; /* of nested sections */
};

static void lex_quoted(struct scanner *s, struct token *t)
{
	bool closed;
	size_t end = skip_quoted(s->buf, s->len, s->pos, &s->line, &closed);

	t->type = closed ? TOK_STRING : TOK_BAD;
	t->text = s->pos + 1;
	t->len = closed ? end - s->pos - 2 : 0;
	s->pos = t->end = end;
}

/* A punctuation mark or a word, at s->pos. */
static void lex_other(struct scanner *s, struct token *t)
{
	const char *b = s->buf;

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
	t->text = s->pos;
	while (s->pos < s->len && !is_delim(b[s->pos]))
		s->pos++;
	t->len = s->pos - t->text;
	t->end = s->pos;
}

static void lex_next(struct scanner *s, struct token *t)
{
	if (s->have_back) {
		*t = s->back;
		s->have_back = false;
		return;
	}
	for (; s->pos < s->len && isspace((unsigned char)s->buf[s->pos]); s->pos++)
		s->line += s->buf[s->pos] == '\n';
	memset(t, 0, sizeof(*t));
	t->line = s->line;
	t->begin = t->end = s->pos;
	if (s->pos >= s->len)
		return;
	if (s->buf[s->pos] == '"' || s->buf[s->pos] == '\'')
		lex_quoted(s, t);
	else
		lex_other(s, t);
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

/* ---- recording ---- */

/* Room for one more element in *v, doubling its capacity. */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(v, *cap, size);
}

static char *token_text(const struct scanner *s, const struct token *t)
{
	return xstrndup(s->buf + t->text, t->len);
}

/* Appends a node named by token t; returns its index. */
static int add_node(struct scanner *s, enum layout_kind kind, int parent, const struct token *t)
{
	struct layout *lay = s->lay;

	lay->nodes = grow(lay->nodes, lay->nnodes, &lay->cap_nodes, sizeof(*lay->nodes));
	lay->nodes[lay->nnodes] = (struct layout_node){
	    .kind = kind,
	    .parent = parent,
	    .name = token_text(s, t),
	    .line = t->line,
	    .begin = t->begin,
	    .end = t->end,
	    .after = lay->nnodes + 1,
	    .item = lay->nitems,
	};
	return (int)lay->nnodes++;
}

static void add_item(struct scanner *s, int node, const struct token *t)
{
	struct layout *lay = s->lay;

	lay->items = grow(lay->items, lay->nitems, &lay->cap_items, sizeof(*lay->items));
	lay->items[lay->nitems++] = (struct layout_item){t->text, t->len, t->line};
	lay->nodes[node].nitems++;
}

/* An unclosed string, or a "{" (open) never closed: the scan stops. */
static size_t broken(struct scanner *s, const struct token *t, const struct token *open)
{
	if (t->type == TOK_BAD)
		fail(s->lay, t->line, "string is never closed");
	else
		fail(s->lay, open->line, "\"{\" is never closed");
	return s->len;
}

/* ---- statements ---- */

/* After "{" of a list: the items up to "}". Returns the end offset. */
static size_t scan_list(struct scanner *s, int node, const struct token *open)
{
	struct token t;

	for (;;) {
		lex_next(s, &t);
		if (t.type == TOK_EOF || t.type == TOK_BAD)
			return broken(s, &t, open);
		if (is_punct(&t, '}'))
			return t.end;
		if (is_punct(&t, '=') || is_punct(&t, '{')) {
			lex_back(s, &t); /* a syntax error for libconfuse */
			return t.begin;
		}
		if (is_value(&t))
			add_item(s, node, &t);
	}
}

/* After KEY "=" or KEY "+=": the key and its values. A statement is
 * recorded only once it is whole: on a broken list the scan stops. */
static void scan_assign(struct scanner *s, int parent, const struct token *key,
			const struct token *op)
{
	int node = add_node(s, op->punct == '+' ? LAYOUT_APPEND : LAYOUT_SET, parent, key);
	size_t end = op->end;
	struct token v;

	lex_next(s, &v);
	if (is_punct(&v, '{')) {
		end = scan_list(s, node, &v);
	} else if (is_value(&v)) {
		add_item(s, node, &v);
		end = v.end;
	} else {
		lex_back(s, &v);
	}
	if (s->lay->error != NULL) {
		free(s->lay->nodes[node].name);
		s->lay->nitems = s->lay->nodes[node].item;
		s->lay->nnodes--;
		return;
	}
	s->lay->nodes[node].end = end;
}

/* NAME "(" ... ")": libconfuse functions; segue defines none. */
static void scan_call(struct scanner *s, int parent, const struct token *name)
{
	struct token t;
	int node;

	do
		lex_next(s, &t);
	while (t.type != TOK_EOF && t.type != TOK_BAD && !is_punct(&t, ')'));
	if (t.type == TOK_BAD) {
		broken(s, &t, NULL);
		return;
	}
	node = add_node(s, LAYOUT_CALL, parent, name);
	s->lay->nodes[node].end = t.end; /* after add_node(): it moves the nodes */
}

static size_t scan_block(struct scanner *s, int parent, const struct token *open);

static void scan_section(struct scanner *s, int parent, const struct token *kind,
			 const struct token *title, const struct token *open)
{
	struct layout_node *n;
	int node;
	size_t end;

	if (s->depth >= LAYOUT_MAX_DEPTH) {
		fail(s->lay, kind->line, "sections nested too deeply");
		return;
	}
	node = add_node(s, LAYOUT_SECTION, parent, kind);
	if (title != NULL)
		s->lay->nodes[node].title = token_text(s, title);
	s->depth++;
	end = scan_block(s, node, open);
	s->depth--;
	n = &s->lay->nodes[node];
	n->end = end;
	n->after = s->lay->nnodes;
}

/* One statement, whose first token is t. */
static void scan_statement(struct scanner *s, int parent, const struct token *t)
{
	struct token t2, t3;

	lex_next(s, &t2);
	if (is_punct(&t2, '=') || is_punct(&t2, '+')) {
		scan_assign(s, parent, t, &t2);
	} else if (is_punct(&t2, '(')) {
		scan_call(s, parent, t);
	} else if (is_punct(&t2, '{')) {
		scan_section(s, parent, t, NULL, &t2);
	} else if (is_value(&t2)) {
		lex_next(s, &t3);
		if (is_punct(&t3, '{'))
			scan_section(s, parent, t, &t2, &t3);
		else
			lex_back(s, &t3);
	} else {
		lex_back(s, &t2);
	}
}

/* Statements up to the "}" matching open (NULL: to the end). Returns the
 * offset after that "}". Anything else is left for libconfuse to refuse. */
static size_t scan_block(struct scanner *s, int parent, const struct token *open)
{
	struct token t;

	while (s->lay->error == NULL) {
		lex_next(s, &t);
		if (t.type == TOK_BAD || (t.type == TOK_EOF && open != NULL))
			return broken(s, &t, open);
		if (t.type == TOK_EOF)
			return t.end;
		if (is_punct(&t, '}') && open != NULL)
			return t.end;
		if (is_value(&t))
			scan_statement(s, parent, &t);
	}
	return s->len;
}

int layout_scan(const char *buf, size_t len, struct layout *lay)
{
	struct scanner s = {.lay = lay, .len = len, .line = 1};
	const char *nul = memchr(buf, '\0', len);

	memset(lay, 0, sizeof(*lay));
	lay->text = xmalloc(len + 1);
	memcpy(lay->text, buf, len);
	lay->text[len] = '\0';
	lay->len = len;
	s.buf = lay->text;
	if (nul != NULL) {
		int line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		fail(lay, line, "NUL byte: not a text file");
		return -1;
	}
	blank_comments(lay);
	lay->last_line = last_line(lay->text, len);
	if (lay->error == NULL)
		scan_block(&s, -1, NULL);
	return lay->error != NULL ? -1 : 0;
}

void layout_free(struct layout *lay)
{
	for (size_t i = 0; i < lay->nnodes; i++) {
		free(lay->nodes[i].name);
		free(lay->nodes[i].title);
	}
	free(lay->nodes);
	free(lay->items);
	free(lay->text);
	memset(lay, 0, sizeof(*lay));
}

/* ---- queries ---- */

/* The nodes of section sec (-1: all) are [*from, *to). */
static void section_range(const struct layout *lay, int sec, size_t *from, size_t *to)
{
	bool ok = sec >= 0 && (size_t)sec < lay->nnodes;

	*from = ok ? (size_t)sec + 1 : 0;
	*to = ok ? lay->nodes[sec].after : lay->nnodes;
}

int layout_section(const struct layout *lay, int parent, const char *kind, const char *title)
{
	size_t i, to;

	for (section_range(lay, parent, &i, &to); i < to; i++) {
		const struct layout_node *n = &lay->nodes[i];

		if (n->kind == LAYOUT_SECTION && n->parent == parent && n->title != NULL &&
		    strcmp(n->name, kind) == 0 && strcmp(n->title, title) == 0)
			return (int)i;
	}
	return -1;
}

static bool is_key(const struct layout_node *n, int section, const char *key)
{
	return (n->kind == LAYOUT_SET || n->kind == LAYOUT_APPEND) && n->parent == section &&
	       strcmp(n->name, key) == 0;
}

const struct layout_node *layout_key(const struct layout *lay, int section, const char *key)
{
	size_t from, i;

	for (section_range(lay, section, &from, &i); i > from; i--)
		if (is_key(&lay->nodes[i - 1], section, key))
			return &lay->nodes[i - 1];
	return NULL;
}

static bool item_is(const struct layout *lay, const struct layout_item *it, const char *value)
{
	return strlen(value) == it->len && memcmp(lay->text + it->begin, value, it->len) == 0;
}

int layout_item_line(const struct layout *lay, int section, const char *key, const char *value,
		     int nth)
{
	const struct layout_node *last = layout_key(lay, section, key);
	size_t i, to, start = lay->nnodes;

	if (last == NULL)
		return 0;
	/* The values kept: from the last "=" (else the first "+=") on. */
	for (section_range(lay, section, &i, &to); i < to; i++)
		if (is_key(&lay->nodes[i], section, key) &&
		    (lay->nodes[i].kind == LAYOUT_SET || start == lay->nnodes))
			start = i;
	for (i = start; i < to; i++) {
		const struct layout_node *n = &lay->nodes[i];

		for (size_t k = 0; is_key(n, section, key) && k < n->nitems; k++)
			if (item_is(lay, &lay->items[n->item + k], value) && nth-- == 0)
				return lay->items[n->item + k].line;
	}
	return last->line;
}
