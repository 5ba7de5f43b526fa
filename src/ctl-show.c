/* ctl-show.c: segue's answers as people read them: tables, results, failures. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define TABLE_COLS 8

/* ---- aligned tables ---- */

struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, owned */
	size_t width[TABLE_COLS];
};

/* Adds a row; takes ownership of the ncols strings in ROW. */
static void table_add(struct table *t, char **row)
{
	size_t i;

	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		size_t w = text_width(row[i]);

		t->cells[t->nrows * t->ncols + i] = row[i];
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

/* Prints and frees the table; the last column is not padded. */
static void table_print(struct table *t, const char *indent)
{
	size_t r, c;

	for (r = 0; r < t->nrows; r++) {
		fputs(indent, stdout);
		for (c = 0; c < t->ncols; c++) {
			char *cell = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				printf("%s%*s  ", cell, (int)(t->width[c] - text_width(cell)), "");
			else
				printf("%s\n", cell);
			free(cell);
		}
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static void show_sockets(const json_t *sockets)
{
	struct table t = {.ncols = 3};
	char *head[3];
	size_t i;
	json_t *s;

	if (!json_array_size(sockets))
		return;
	head[0] = xstrdup("SOCKET");
	head[1] = xstrdup("LISTEN");
	head[2] = xstrdup("FD");
	table_add(&t, head);
	json_array_foreach (sockets, i, s) {
		char *row[] = {jtext(s, "name"), jtext(s, "listen"), jtext(s, "fd")};

		table_add(&t, row);
	}
	putchar('\n');
	table_print(&t, "");
}

static char *worker_age(const json_t *w)
{
	const json_t *age = json_object_get(w, "age_s");
	double s = json_is_number(age) ? json_number_value(age) : -1;
	char buf[32];

	if (s < 0 && json_is_string(json_object_get(w, "since")))
		s = seconds_since(jstr(w, "since"));
	if (s < 0)
		return xstrdup("-");
	format_age(s, buf, sizeof buf);
	return xstrdup(buf);
}

static void show_workers(const json_t *workers)
{
	static const char *const names[] = {"PID", "SLOT",     "GEN",	"STATE",
					    "AGE", "RESTARTS", "STATUS"};
	struct table t = {.ncols = 7};
	char *head[7];
	size_t i;
	json_t *w;

	if (!json_array_size(workers)) {
		puts("  (no workers)");
		return;
	}
	for (i = 0; i < t.ncols; i++)
		head[i] = xstrdup(names[i]);
	table_add(&t, head);
	json_array_foreach (workers, i, w) {
		char *row[] = {jtext(w, "pid"),
			       jtext(w, "slot"),
			       jtext(w, "generation"),
			       jtext(w, "state"),
			       worker_age(w),
			       jtext(w, "restarts"),
			       json_object_get(w, "status") ? jtext(w, "status") : xstrdup("")};

		table_add(&t, row);
	}
	table_print(&t, "  ");
}

static void show_program(const json_t *p)
{
	char *name = jtext(p, "name"), *ready = jtext(p, "ready");
	char *desired = jtext(p, "desired"), *gen = jtext(p, "generation");
	char *dir = jtext(p, "directory");

	printf("\nprogram %s: %s/%s ready, generation %s, directory %s\n", name, ready, desired,
	       gen, dir);
	free(name);
	free(ready);
	free(desired);
	free(gen);
	free(dir);
	show_workers(json_object_get(p, "workers"));
}

/* The serving release, and where a deploy is when one is under way. */
static void show_deploy(const json_t *a)
{
	const json_t *d = json_object_get(a, "deploy");
	const json_t *left = json_object_get(d, "left_s");
	char *release = jtext(a, "release"), *phase = jtext(d, "phase");
	char when[32] = "";

	if (*release)
		printf("release: %s\n", release);
	if (json_is_number(left))
		format_age(json_number_value(left), when, sizeof when);
	if (d && strcmp(phase, "idle") != 0)
		printf("deploy: %s%s%s\n", phase, *when ? ", left " : "", when);
	free(release);
	free(phase);
}

static int show_status(const struct options *o, json_t *a)
{
	char *version = jtext(a, "version"), *pid = jtext(a, "pid");
	char *gen = jtext(a, "generation"), *last = jtext(a, "last_reload");
	const json_t *up = json_object_get(a, "uptime_s");
	char uptime[32] = "-";
	size_t i;
	json_t *p;

	if (json_is_number(up))
		format_age(json_number_value(up), uptime, sizeof uptime);
	printf("segue %s, pid %s, up %s, generation %s, reloading %s\n", version, pid, uptime, gen,
	       jbool(a, "reloading") ? "yes" : "no");
	printf("last reload: %s\n",
	       json_is_string(json_object_get(a, "last_reload")) && *jstr(a, "last_reload")
		   ? last
		   : "none");
	show_deploy(a);
	free(version);
	free(pid);
	free(gen);
	free(last);
	show_sockets(json_object_get(a, "sockets"));
	json_array_foreach (json_object_get(a, "programs"), i, p)
		show_program(p);
	return EXIT_OK;
}

static int show_unhealthy(json_t *a)
{
	const json_t *problems = json_object_get(a, "problems");
	size_t i;
	json_t *p;

	puts("unhealthy:");
	if (!json_array_size(problems)) {
		char *e = jtext(a, "error");

		printf("  %s\n", e);
		free(e);
	}
	json_array_foreach (problems, i, p) {
		char *s = printable(json_is_string(p) ? json_string_value(p) : "?");

		printf("  %s\n", s);
		free(s);
	}
	return EXIT_FAILED;
}

static int show_reload(const struct options *o, json_t *a)
{
	const char *what = o->cmd->name;

	char *shown = printable(jstr(a, "release"));

	if (!o->wait)
		printf("%s %" JSON_INTEGER_FORMAT " started%s%s\n", what,
		       json_integer_value(json_object_get(a, "reload")),
		       *shown ? ", back to release " : "", shown);
	else if (json_object_get(a, "watch")) {
		char *m = jtext(a, "message");
		printf("%s\n", m);
		free(m);
	} else if (json_object_get(a, "generation"))
		printf("generation %" JSON_INTEGER_FORMAT
		       " serving%s%s (%s took %" JSON_INTEGER_FORMAT " ms)\n",
		       json_integer_value(json_object_get(a, "generation")),
		       *shown ? " release " : "", shown, what,
		       (json_int_t)json_number_value(json_object_get(a, "duration_ms")));
	else
		printf("%s %" JSON_INTEGER_FORMAT " done\n", what,
		       json_integer_value(json_object_get(a, "reload")));
	free(shown);
	return EXIT_OK;
}

static int show_scale(const struct options *o, json_t *a)
{
	char *prog = json_object_get(a, "program") ? jtext(a, "program") : printable(o->args[0]);
	char *n = json_object_get(a, "desired") ? jtext(a, "desired") : printable(o->args[1]);

	printf("%s: %s worker%s desired\n", prog, n, strcmp(n, "1") ? "s" : "");
	free(prog);
	free(n);
	return EXIT_OK;
}

static int show_signal(const struct options *o, json_t *a)
{
	char *prog = printable(o->args[0]), *sig = printable(o->args[1]);
	char *n = jtext(a, "signalled");

	printf("%s: %s sent to %s worker%s\n", prog, sig, n, strcmp(n, "1") ? "s" : "");
	free(prog);
	free(sig);
	free(n);
	return EXIT_OK;
}

static int show_version(const struct options *o, json_t *a)
{
	char *v = jtext(a, "version");

	printf("segue %s (seguectl %s)\n", v, PACKAGE_VERSION);
	free(v);
	return EXIT_OK;
}

static int show_upgrade(const struct options *o, json_t *a)
{
	char *msg = jtext(a, "message");

	puts(*msg ? msg : "segue upgraded");
	free(msg);
	return EXIT_OK;
}

static int show_health(const struct options *o, json_t *a)
{
	puts("healthy");
	return EXIT_OK;
}

static int show_stop(const struct options *o, json_t *a)
{
	puts("segue is stopping");
	return EXIT_OK;
}

/* Shows a successful answer; returns the exit status. */
typedef int show_fn(const struct options *o, json_t *answer);

/* How each kind of request's answer is shown. The streams, metrics and
 * events, have none: stream() copies their lines. */
static show_fn *const shows[] = {
    [REQ_STATUS] = show_status,	  [REQ_HEALTH] = show_health,	[REQ_RELOAD] = show_reload,
    [REQ_ROLLBACK] = show_reload, [REQ_SCALE] = show_scale,	[REQ_SIGNAL] = show_signal,
    [REQ_STOP] = show_stop,	  [REQ_VERSION] = show_version, [REQ_UPGRADE] = show_upgrade,
};

int show_answer(const struct options *o, json_t *a)
{
	size_t kind = o->cmd->kind;

	if (kind >= ARRAY_SIZE(shows) || !shows[kind])
		die(EXIT_TROUBLE, "%s: seguectl cannot show this answer", o->cmd->name);
	return shows[kind](o, a);
}

/* An ok:false answer: prints why and returns the exit status. */
int show_failure(const struct options *o, const struct conn *c, json_t *a)
{
	const char *name = o->cmd->name;
	char *error = printable(jstr(a, "error"));
	int status = EXIT_FAILED;

	if (!strncmp(error, "permission denied", 17)) {
		fprintf(stderr,
			"seguectl: permission denied on %s: %s (segue serves root, "
			"its own user and members of control-group)\n",
			c->path, error + 17 + strspn(error + 17, ": "));
		status = EXIT_TROUBLE;
	} else if (o->cmd->kind == REQ_HEALTH && !strcmp(error, "unhealthy"))
		status = show_unhealthy(a);
	else if (o->cmd->flags & VERB_WAIT)
		fprintf(stderr, "%s failed: %s\n", name, error);
	else
		fprintf(stderr, "seguectl: %s failed: %s\n", name, error);
	free(error);
	return status;
}

int answer_show(const struct options *o, const struct conn *c, const char *line, size_t len)
{
	json_t *a = parse_answer(line, len);
	int status;

	if (o->json) {
		printf("%s\n", line);
		status = jbool(a, "ok")					       ? EXIT_OK
			 : !strncmp(jstr(a, "error"), "permission denied", 17) ? EXIT_TROUBLE
									       : EXIT_FAILED;
	} else if (jbool(a, "ok"))
		status = show_answer(o, a);
	else
		status = show_failure(o, c, a);
	json_decref(a);
	return finish(status);
}
