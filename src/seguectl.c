/* seguectl.c: the control client: one request to segue's control socket, its answer shown. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "parse.h"
#include "paths.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define REQUEST_MAX	PROTO_MAX_LINE /* the protocol's limit, newline included */
#define SIMPLE_TIMEOUT	10	       /* seconds: default wait for a simple answer */
#define UPGRADE_TIMEOUT 60	       /* seconds: re-exec and restore take longer */

/* ---- socket path, help, command line ---- */

/* The socket seguectl talks to without -s: the one segue listens on
 * without a control key (paths.h). A path cut short at PATH_MAX is still
 * longer than any socket address: conn_open refuses it. */
static const char *default_socket(struct options *o)
{
	(void)control_default_path(o->socket_buf, sizeof o->socket_buf);
	return o->socket_buf;
}

static void help(struct options *o) __attribute__((noreturn));
static void help(struct options *o)
{
	size_t i;

	printf("usage: seguectl [-s PATH] [--json] [-q] COMMAND [ARG ...] [OPTIONS]\n"
	       "Talks to segue's control socket.\n\n"
	       "Common tasks:\n"
	       "  deploy             seguectl reload --wait=watch --timeout 15m\n"
	       "  roll back          seguectl rollback --wait\n"
	       "  check health       seguectl health; seguectl status --watch\n"
	       "  follow events      seguectl events --event reload --event canary\n"
	       "  upgrade segue      seguectl upgrade --wait\n\n"
	       "Options, before the command:\n"
	       "  -s, --socket PATH  control socket (now: %s)\n"
	       "      --json         print segue's answer as it came, one JSON line\n"
	       "  -q, --quiet        no progress: only the result\n"
	       "  -h, --help         show this help\n"
	       "  -V, --version      show seguectl's version\n\n"
	       "Commands:\n",
	       default_socket(o));
	for (i = 0; i < proto_nverbs; i++) {
		const struct proto_verb *v = &proto_verbs[i];

		printf("  %-8s %-12s %s\n", v->name, v->flags & VERB_WAIT ? "[--wait]" : v->args,
		       v->summary);
	}
	printf("\nOptions, after the command:\n"
	       "  --wait             reload, rollback, upgrade: answer when it has ended,\n"
	       "                     showing its progress on standard error\n"
	       "  --wait=watch       reload: also through the release's watch window;\n"
	       "                     exit 1 if it was rolled back in it\n"
	       "  --timeout DUR      give up after DUR (120, 250ms, 30s, 5m, 1h)\n"
	       "  --watch            status: redraw whenever something changed\n"
	       "  --interval DUR     status --watch: at most one redraw per DUR (1s)\n"
	       "  --program NAME     events: only NAME's (repeatable)\n"
	       "  --event PREFIX     events: only those whose name starts so (repeatable)\n\n"
	       "Exit status: 0 success or healthy; 1 the command failed, was rolled\n"
	       "back or segue is unhealthy; 2 cannot connect, or usage error;\n"
	       "3 --timeout reached.\n");
	exit(EXIT_OK);
}

static const struct proto_verb *find_command(const char *name)
{
	const struct proto_verb *v = proto_verb_named(name);

	if (!v)
		usage_error("unknown command '%s'", name);
	return v;
}

/* An argument goes into a space-separated request line. */
static void check_word(const char *what, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p)
		usage_error("%s is empty", what);
	for (; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			usage_error("%s must not contain spaces or control characters", what);
}

/* scale PROGRAM N, signal PROGRAM SIG: what segue would refuse anyway,
 * refused here with a usage message. */
static void check_args(const struct proto_verb *v, const char *program, const char *value)
{
	check_word("PROGRAM", program);
	if (v->kind != REQ_SCALE)
		check_word("SIG", value);
	else if (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 6)
		usage_error("scale: N must be a number of workers, not '%s'", value);
}

static void set_duration(const char *opt, const char *dur, double *to)
{
	if (parse_duration(dur, to) < 0)
		usage_error("%s: bad duration '%s' (try 120, 250ms, 30s, 5m, 1h)", opt, dur);
}

/* The value of option NAME at argv[*i] ("NAME V" or "NAME=V"), or NULL
 * when argv[*i] is another word. */
static const char *value_of(const char *name, int argc, char **argv, int *i)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc)
		usage_error("%s needs a value", name);
	return argv[++*i];
}

/* Appends to a NULL-ended list of option values. */
static void add_value(const char ***list, const char *v)
{
	size_t n = 0;

	while (*list && (*list)[n])
		n++;
	*list = xrealloc(*list, (n + 2) * sizeof **list);
	(*list)[n] = v;
	(*list)[n + 1] = NULL;
}

/* One option after the command; false when A is not one of them. */
static bool command_option(struct options *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	enum request_kind kind = o->cmd->kind;

	if (!strcmp(a, "--wait") && (o->cmd->flags & VERB_WAIT))
		o->wait = true;
	else if (!strcmp(a, "--wait=watch") && kind == REQ_RELOAD)
		o->wait = o->wait_watch = true;
	else if ((v = value_of("--timeout", argc, argv, i)))
		set_duration("--timeout", v, &o->timeout);
	else if (!strcmp(a, "--json"))
		o->json = true;
	else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
		o->quiet = true;
	else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
		help(o);
	else if (kind == REQ_STATUS && !strcmp(a, "--watch"))
		o->watch = true;
	else if (kind == REQ_STATUS && (v = value_of("--interval", argc, argv, i)))
		set_duration("--interval", v, &o->interval);
	else if (kind == REQ_EVENTS && (v = value_of("--program", argc, argv, i)))
		add_value(&o->programs, v);
	else if (kind == REQ_EVENTS && (v = value_of("--event", argc, argv, i)))
		add_value(&o->events, v);
	else
		return false;
	return true;
}

/* The command's own arguments and options, which come after it. */
static void parse_command_args(struct options *o, int argc, char **argv)
{
	int i, n = 0;
	bool options = true;

	o->args = xrealloc(NULL, (size_t)(argc + 1) * sizeof *o->args);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (options && !strcmp(a, "--"))
			options = false;
		else if (options && command_option(o, argc, argv, &i))
			continue;
		else if (options && a[0] == '-' && a[1])
			usage_error("%s: unknown option '%s'", o->cmd->name, a);
		else
			o->args[n++] = argv[i];
	}
	o->args[n] = NULL;
	if (o->interval > 0 && !o->watch)
		usage_error("--interval goes with status --watch");
	if (n != o->cmd->nargs && o->cmd->nargs == 0)
		usage_error("%s takes no arguments", o->cmd->name);
	if (n != o->cmd->nargs)
		usage_error("usage: seguectl %s %s", o->cmd->name, o->cmd->args);
	if (n == 2)
		check_args(o->cmd, o->args[0], o->args[1]);
}

static void parse_options(struct options *o, int argc, char **argv)
{
	/* --control is segue's name for the option, accepted here too */
	static const struct option longopts[] = {
	    {.name = "socket", .has_arg = required_argument, .val = 's'},
	    {.name = "control", .has_arg = required_argument, .val = 's'},
	    {.name = "json", .val = 'j'},
	    {.name = "quiet", .val = 'q'},
	    {.name = "complete", .has_arg = required_argument, .val = 'C'},
	    {.name = "help", .val = 'h'},
	    {.name = "version", .val = 'V'},
	    {0},
	};
	const char *complete = NULL;
	int c;

	o->timeout = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'C':
			complete = optarg;
			break;
		case 'h':
			help(o);
		case 'V':
			printf("seguectl %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (complete) /* for the shell completion scripts */
		exit(complete_words(complete,
				    o->socket && *o->socket ? o->socket : default_socket(o)));
	if (optind >= argc)
		usage_error("no command given");
	if (!strcmp(argv[optind], "help"))
		help(o);
	o->cmd = find_command(argv[optind]);
	parse_command_args(o, argc - optind - 1, argv + optind + 1);
	if (!o->socket || !*o->socket)
		o->socket = default_socket(o);
}

/* ---- one request, one answer ---- */

/* Appends sep and word to the request line; a line over the protocol's
 * limit is a usage error. */
static void append(char *buf, size_t len, size_t *used, const char *sep, const char *word)
{
	int n = snprintf(buf + *used, len - *used, "%s%s", sep, word);

	if (n < 0 || (size_t)n >= len - *used)
		usage_error("request is longer than %d bytes", REQUEST_MAX);
	*used += (size_t)n;
}

/* The verb, its arguments, and "wait" if asked for: the protocol's words. */
static size_t build_request(const struct options *o, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	append(buf, len, &used, "", o->cmd->name);
	for (i = 0; o->args[i]; i++)
		append(buf, len, &used, " ", o->args[i]);
	append(buf, len, &used, o->wait_watch ? " watch" : o->wait ? " wait" : "", "\n");
	return used;
}

/* Milliseconds in a duration; a part of one counts as one. */
static long long duration_ms(double seconds)
{
	double ms = seconds * 1000;
	long long whole = (long long)ms;

	return ms - (double)whole > 1e-6 ? whole + 1 : whole;
}

static void set_deadline(struct conn *c, const struct options *o)
{
	static char text[32], note[80];
	double timeout = o->timeout;
	bool follow = o->cmd->kind == REQ_EVENTS || o->watch;

	if (timeout < 0) /* the command's default */
		timeout = o->wait || follow		? 0
			  : o->cmd->kind == REQ_UPGRADE ? UPGRADE_TIMEOUT
							: SIMPLE_TIMEOUT;
	format_duration(timeout, text, sizeof text);
	c->timeout_text = text;
	c->follow = follow;
	c->deadline = duration_ms(timeout) > 0 ? now_ms() + duration_ms(timeout) : NO_DEADLINE;
	snprintf(note, sizeof note, "the %s goes on inside segue: see 'seguectl status'",
		 o->cmd->name);
	if (o->wait)
		c->timeout_note = note;
}

static int request(const struct options *o, struct conn *c)
{
	size_t len;
	char *line = conn_line(c, &len);

	if (!line)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	return answer_show(o, c, line, len);
}

/* What the command line asks for: a stream, a watch, a wait with its
 * progress, or one request and its answer. */
static int run(const struct options *o, struct conn *c, const char *req, size_t len)
{
	if (o->watch)
		return watch_status(o, c);
	if (o->wait && !o->json && !o->quiet)
		return progress_wait(o, c, req, len);
	conn_send(c, req, len);
	return (o->cmd->flags & VERB_STREAM) ? stream_copy(o, c) : request(o, c);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct conn c = {.fd = -1};
	char req[REQUEST_MAX + 1];
	size_t len;
	int status;

	signal(SIGPIPE, SIG_IGN);
	parse_options(&o, argc, argv);
	len = build_request(&o, req, sizeof req);
	c.path = o.socket;
	set_deadline(&c, &o);
	conn_open(&c);
	status = run(&o, &c, req, len);
	conn_close(&c);
	free(o.args);
	free(o.programs);
	free(o.events);
	return status;
}
