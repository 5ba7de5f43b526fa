/* paths.c: where segue and seguectl look for things nobody named. */
/* SPDX-License-Identifier: MIT */
#include "paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* RUNSTATEDIR comes from ./configure (--runstatedir), through Makefile.am. */

int control_default_path(char *buf, size_t len)
{
	const char *env = getenv("SEGUE_CONTROL");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	/* root's segue is the system's, whatever its environment says */
	else if (geteuid() == 0 || !xdg || !*xdg)
		n = snprintf(buf, len, "%s/segue/control.sock", RUNSTATEDIR);
	else
		n = snprintf(buf, len, "%s/segue/control.sock", xdg);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
