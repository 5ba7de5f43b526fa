/* ctl-term.c: what seguectl's terminal can do: redraw in place, colour. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No TERM, or TERM=dumb: a terminal that cannot move its cursor. */
static bool dumb_terminal(void)
{
	const char *term = getenv("TERM");

	return !term || !*term || !strcmp(term, "dumb");
}

/* https://no-color.org: set and not empty. */
static bool no_colour(void)
{
	const char *v = getenv("NO_COLOR");

	return v && *v;
}

struct term term_of(int fd)
{
	struct term t = {.tty = isatty(fd) == 1};

	t.live = t.tty && !dumb_terminal();
	t.colour = t.live && !no_colour();
	return t;
}

const char *term_sgr(const struct term *t, const char *code)
{
	return t->colour ? code : "";
}
