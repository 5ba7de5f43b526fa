/* ctl-complete.c: the words shell completion offers: commands, options, programs, signals. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "parse.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options after a command, by the verb flags or kind that take them. */
static void command_options(const char *name)
{
	const struct proto_verb *v = proto_verb_named(name);

	puts("--json\n--quiet\n--timeout\n--help");
	if (!v)
		return;
	if (v->flags & VERB_WAIT)
		puts("--wait");
	if (v->kind == REQ_STATUS)
		puts("--watch\n--interval");
	if (v->kind == REQ_EVENTS)
		puts("--program\n--event");
}

/* The programs segue runs now; nothing when it does not answer. */
static int programs(const char *socket)
{
	struct conn c = {
	    .fd = -1, .path = socket, .deadline = now_ms() + 2000, .timeout_text = "2s"};
	json_t *a, *p;
	size_t i;

	conn_open(&c);
	a = conn_ask(&c, "status\n");
	json_array_foreach (json_object_get(a, "programs"), i, p) {
		char *name = printable(jstr(p, "name"));

		if (*name && !strpbrk(name, " ?"))
			puts(name);
		free(name);
	}
	json_decref(a);
	conn_close(&c);
	return EXIT_OK;
}

int complete_words(const char *what, const char *socket)
{
	if (!strcmp(what, "commands")) {
		for (size_t i = 0; i < proto_nverbs; i++)
			puts(proto_verbs[i].name);
	} else if (!strncmp(what, "options=", 8))
		command_options(what + 8);
	else if (!strcmp(what, "programs"))
		return programs(socket);
	else if (!strcmp(what, "signals")) {
		for (int sig = 1; sig < SIGRTMIN; sig++)
			if (strncmp(signal_name(sig), "SIG", 3)) /* named, not "SIG34" */
				puts(signal_name(sig));
	} else
		usage_error("--complete: commands, options=COMMAND, programs or signals");
	return finish(EXIT_OK);
}
