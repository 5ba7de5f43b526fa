/* layout.h: a pure scanner of segue.conf text: comments blanked, and where each key is. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LAYOUT_H
#define SEGUE_LAYOUT_H

#include <stddef.h>

/*
 * libconfuse 3.3 miscounts lines after comments and cannot parse a comment
 * inside a { } list (SPEC.md, "Known pitfalls"). The scanner reads the text
 * the way libconfuse's lexer does, with no I/O and no libconfuse:
 *  - it blanks every comment (#, // and slash-star) outside quoted strings
 *    to spaces, keeping every newline, so that libconfuse counts lines right;
 *  - it records each section and statement with its line and byte span, so
 *    that messages can say FILE:LINE and the caller can blank what it
 *    refuses;
 *  - it says when the text is too broken to hand to libconfuse at all.
 */

/* Sections in sections, at most (segue uses one level); deeper is an error,
 * which also bounds the scanner's recursion on hostile input. */
#define LAYOUT_MAX_DEPTH 8

enum layout_kind {
	LAYOUT_SECTION, /* NAME [TITLE] { ... } */
	LAYOUT_SET,	/* KEY = VALUE, KEY = { VALUE, ... } */
	LAYOUT_APPEND,	/* KEY += ... */
	LAYOUT_CALL,	/* NAME ( ... ): a libconfuse function */
};

/* A section or a statement. Nodes are in the order of the text; a section
 * comes before the nodes inside it. */
struct layout_node {
	enum layout_kind kind;
	int parent;	   /* the enclosing section's node, -1 at the top */
	char *name;	   /* the section kind, key or function */
	char *title;	   /* sections: the title, NULL when there is none */
	int line;	   /* of the name */
	size_t begin, end; /* bytes, from the name to past the value or "}" */
	size_t after;	   /* sections: the index past their last inner node */
	size_t item;	   /* SET and APPEND: first value in layout.items */
	size_t nitems;
};

/* A value: a word, or a quoted string without its quotes (escapes stay as
 * written). */
struct layout_item {
	size_t begin, len; /* in layout.text */
	int line;
};

struct layout {
	char *text; /* the input with comments blanked; NUL-terminated */
	size_t len;
	struct layout_node *nodes;
	size_t nnodes;
	struct layout_item *items;
	size_t nitems;
	int last_line;	   /* the last line with more than blanks and comments */
	const char *error; /* NULL, or why the text cannot be parsed at all */
	int error_line;
	size_t cap_nodes, cap_items;
};

/* Scans len bytes (any bytes at all). Fills *lay, which layout_free()
 * releases in every case. Returns 0, or -1 when lay->error says why the text
 * cannot be parsed (a NUL byte, an unclosed comment, string or brace,
 * sections nested too deeply); what was scanned before stays recorded. */
int layout_scan(const char *buf, size_t len, struct layout *lay);
void layout_free(struct layout *lay);

/* The first section KIND "TITLE" directly inside section `parent` (-1: at the
 * top), or -1. */
int layout_section(const struct layout *lay, int parent, const char *kind, const char *title);

/* The statement that last set or appended to `key` directly inside section
 * `section` (-1: at the top), or NULL. */
const struct layout_node *layout_key(const struct layout *lay, int section, const char *key);

/* The line of the nth item equal to `value` among the values `key` ends up
 * with (its last "=" and the "+=" after it), else the key's line, else 0. */
int layout_item_line(const struct layout *lay, int section, const char *key, const char *value,
		     int nth);

/* Turns bytes [begin, end) of lay->text into spaces, newlines kept. */
void layout_blank(struct layout *lay, size_t begin, size_t end);

#endif
