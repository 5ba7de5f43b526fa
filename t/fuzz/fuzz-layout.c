/* fuzz-layout.c: libFuzzer harness for layout_scan(), the config text scanner. */
/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_lines(const char *buf, size_t len)
{
	int lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	return lines;
}

/* The text is the input with some bytes blanked: same length, same
 * newlines, and every other byte either kept or made a space. */
static void check_text(const struct layout *lay, const char *in, size_t len)
{
	if (lay->len != len || lay->text == NULL || lay->text[len] != '\0')
		abort();
	for (size_t i = 0; i < len; i++) {
		if ((in[i] == '\n') != (lay->text[i] == '\n'))
			abort();
		if (lay->text[i] != in[i] && lay->text[i] != ' ')
			abort();
	}
}

static void check_items(const struct layout *lay, const struct layout_node *n, int lines)
{
	if (n->item > lay->nitems || n->nitems > lay->nitems - n->item)
		abort();
	for (size_t k = 0; k < n->nitems; k++) {
		const struct layout_item *it = &lay->items[n->item + k];

		if (it->begin > lay->len || it->len > lay->len - it->begin)
			abort();
		if (it->line < n->line || it->line > lines)
			abort();
	}
}

/* Each node: in range, inside its parent, findable by the queries. */
static void check_node(const struct layout *lay, size_t i, int lines)
{
	const struct layout_node *n = &lay->nodes[i];
	const struct layout_node *p = n->parent >= 0 ? &lay->nodes[n->parent] : NULL;

	if (n->name == NULL || n->line < 1 || n->line > lines)
		abort();
	if (n->begin > n->end || n->end > lay->len)
		abort();
	if (n->parent >= (int)i || n->parent < -1)
		abort();
	if (p != NULL && (p->kind != LAYOUT_SECTION || i >= p->after || n->begin < p->begin))
		abort();
	if (n->kind == LAYOUT_SECTION) {
		if (n->after <= i || n->after > lay->nnodes || (p != NULL && n->after > p->after))
			abort();
		if (n->title != NULL && layout_section(lay, n->parent, n->name, n->title) > (int)i)
			abort();
		return;
	}
	check_items(lay, n, lines);
	if (n->kind != LAYOUT_CALL && layout_key(lay, n->parent, n->name) == NULL)
		abort();
	for (size_t k = 0; n->kind != LAYOUT_CALL && k < n->nitems; k++) {
		const struct layout_item *it = &lay->items[n->item + k];
		char *v = strndup(lay->text + it->begin, it->len);
		int line;

		if (v == NULL)
			abort();
		line = layout_item_line(lay, n->parent, n->name, v, 0);
		if (line < 1 || line > lines)
			abort();
		free(v);
	}
}

/* A scan of the scanned text finds the same nodes (comments are gone). */
static void check_again(const struct layout *lay)
{
	struct layout again;

	if (layout_scan(lay->text, lay->len, &again) != 0)
		abort();
	if (memcmp(again.text, lay->text, lay->len) != 0 || again.nnodes != lay->nnodes ||
	    again.nitems != lay->nitems || again.last_line != lay->last_line)
		abort();
	for (size_t i = 0; i < lay->nnodes; i++)
		if (again.nodes[i].kind != lay->nodes[i].kind ||
		    again.nodes[i].line != lay->nodes[i].line ||
		    again.nodes[i].end != lay->nodes[i].end ||
		    strcmp(again.nodes[i].name, lay->nodes[i].name) != 0)
			abort();
	layout_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past the end is an ASan report. */
	char *in = malloc(size ? size : 1);
	struct layout lay;
	int lines, rc;

	if (in == NULL)
		abort();
	memcpy(in, data, size);
	lines = count_lines(in, size);
	rc = layout_scan(in, size, &lay);
	if (rc != 0 && rc != -1)
		abort();
	if ((rc == -1) != (lay.error != NULL))
		abort();
	if (rc == -1 && (lay.error_line < 1 || lay.error_line > lines || *lay.error == '\0'))
		abort();
	check_text(&lay, in, size);
	if (rc == 0 && (lay.last_line < 1 || lay.last_line > lines))
		abort();
	for (size_t i = 0; i < lay.nnodes; i++)
		check_node(&lay, i, lines);
	if (rc == 0)
		check_again(&lay);
	/* Blanking every node keeps the text's shape. */
	for (size_t i = 0; i < lay.nnodes; i++)
		layout_blank(&lay, lay.nodes[i].begin, lay.nodes[i].end);
	check_text(&lay, in, size);
	layout_free(&lay);
	free(in);
	return 0;
}
