/* config.c: the configuration object from a file: libconfuse's tables, and every check. */
/* SPDX-License-Identifier: MIT */
/* fmemopen: a glibc extension. */
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-internal.h"
#include "layout.h"
#include "util.h"

#define MAX_WORKERS   10000
#define MAX_FILE_SIZE (1 << 20)
#define MAX_PROBLEMS  100
/* A faster restart loop only burns CPU: "0" respawned 478 times a second. */
#define RESTART_DELAY_MIN 0.01
/* A check runs a process: not more than ten a second. */
#define CHECK_INTERVAL_MIN 0.1

static const char *const ready_names[] = {"notify", "delay", "exec", NULL};
static const char *const reload_names[] = {"all-at-once", "rolling", NULL};
static const char *const stdout_names[] = {"inherit", "capture", NULL};
static const char *const kill_mode_names[] = {"group", "process", NULL};
static const char *const handover_names[] = {"shared", "steer", NULL};
static const char *const log_format_names[] = {"logfmt", "json", NULL};
static const char *const fd_protocol_names[] = {"einhorn", "server-starter", NULL};

/* ---- problems, collected and printed sorted by line ---- */

struct problem {
	int line;
	size_t seq;
	char *text;
};

void config_problem(struct ctx *x, int line, const char *fmt, ...)
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
	x->problems = xreallocarray(x->problems, x->nproblems + 1, sizeof(*p));
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
	size_t n = x->nproblems, dropped = x->dropped;

	if (n > 0)
		qsort(x->problems, n, sizeof(*x->problems), problem_order);
	for (size_t i = 0; i < n; i++) {
		fprintf(x->errors, "%s\n", x->problems[i].text);
		free(x->problems[i].text);
	}
	if (dropped > 0)
		fprintf(x->errors, "%s: %zu more problems not shown\n", x->where, dropped);
	fflush(x->errors);
	free(x->problems);
	x->problems = NULL;
	x->nproblems = x->dropped = 0;
	return n + dropped;
}

struct config *config_end(struct ctx *x, struct config *c)
{
	if (flush_problems(x) > 0 && c != NULL) {
		config_unref(c);
		c = NULL;
	}
	return c;
}

/* ---- the rules of single values, for the file and the command line ---- */

struct rule;
/* NULL when v is good (its number, if any, in *out), else why not. */
typedef char *check_fn(const struct rule *r, const char *v, double *out);

struct rule {
	const char *key;
	check_fn *check;
	const char *const *names; /* enums */
	double min;		  /* durations: the floor */
	bool above;		  /* durations: must be more than min */
};

static int enum_index(const char *const names[], const char *s)
{
	for (int i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "notify, delay or exec" */
static char *enum_choices(const char *const names[])
{
	char *out = xstrdup(names[0]), *tmp;

	for (size_t i = 1; names[i] != NULL; i++) {
		tmp = xasprintf("%s%s%s", out, names[i + 1] != NULL ? ", " : " or ", names[i]);
		free(out);
		out = tmp;
	}
	return out;
}

static char *check_enum(const struct rule *r, const char *v, double *out)
{
	int i = enum_index(r->names, v);
	char *choices, *why;

	*out = i >= 0 ? i : 0; /* the first, not -1, in an enum of the refused config */
	if (i >= 0)
		return NULL;
	choices = enum_choices(r->names);
	why = xasprintf("bad value \"%s\" (%s)", v, choices);
	free(choices);
	return why;
}

static char *check_duration(const struct rule *r, const char *v, double *out)
{
	char floor[32];

	*out = 0;
	if (parse_duration(v, out) < 0)
		return xasprintf("bad duration \"%s\"", v);
	if (r->above && *out <= r->min)
		return xasprintf("must be more than %g", r->min);
	if (*out < r->min - 1e-9) {
		format_duration(r->min, floor, sizeof(floor));
		return xasprintf("must be at least %s", floor);
	}
	return NULL;
}

static char *check_signal(const struct rule *r, const char *v, double *out)
{
	*out = parse_signal(v);
	return *out < 0 ? xasprintf("bad signal \"%s\"", v) : NULL;
}

static char *check_mode(const struct rule *r, const char *v, double *out)
{
	mode_t m = 0;
	int rc = parse_mode(v, &m);

	*out = m;
	return rc < 0 ? xasprintf("bad mode \"%s\" (octal, up to 7777)", v) : NULL;
}

static char *check_user(const struct rule *r, const char *v, double *out)
{
	*out = 0;
	return *v != '\0' && getpwnam(v) == NULL ? xasprintf("unknown user \"%s\"", v) : NULL;
}

static char *check_group(const struct rule *r, const char *v, double *out)
{
	*out = 0;
	return *v != '\0' && getgrnam(v) == NULL ? xasprintf("unknown group \"%s\"", v) : NULL;
}

/* A unix socket path: parse_address() knows how long sun_path is. "" means
 * "the default", which the caller checks. */
static char *check_socket_path(const struct rule *r, const char *v, double *out)
{
	struct address a;
	char err[128], *unix_addr = xasprintf("unix:%s", v);
	char *why = NULL;

	*out = 0;
	if (*v != '\0' && parse_address(unix_addr, &a, err, sizeof(err)) < 0)
		why = xasprintf("bad path \"%s\": %s", v, err);
	free(unix_addr);
	return why;
}

/* "N" workers or "P%" of them: N in *out, or -P for a share. */
static char *check_canary(const struct rule *r, const char *v, double *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	bool share = end != v && strcmp(end, "%") == 0;
	*out = 0;
	if (end == v || errno || (*end && !share) || !isdigit((unsigned char)*v))
		return xasprintf("bad value \"%s\" (a number of workers, or a share like \"25%%\")",
				 v);
	if (share && (n < 1 || n > 100))
		return xasprintf("bad share \"%s\" (1%% to 100%%)", v);
	if (n > MAX_WORKERS)
		return xasprintf("must be at most %d", MAX_WORKERS);
	*out = share ? -(double)n : (double)n;
	return NULL;
}

/* "P%" of new connections (1% to 100%) in *out, or "" for none. */
static char *check_weight(const struct rule *r, const char *v, double *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	*out = 0;
	if (!*v)
		return NULL;
	if (end == v || errno || strcmp(end, "%") != 0 || !isdigit((unsigned char)*v))
		return xasprintf("bad value \"%s\" (a share of new connections like \"10%%\")", v);
	if (n < 1 || n > 100)
		return xasprintf("bad share \"%s\" (1%% to 100%%)", v);
	*out = (double)n;
	return NULL;
}

/* A release name goes into events, metrics labels and environments: one
 * line of printable text. */
static char *check_release(const struct rule *r, const char *v, double *out)
{
	*out = 0;
	if (strlen(v) > 200)
		return xasprintf("longer than 200 bytes");
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return xasprintf("holds a control character");
	return NULL;
}

static const struct rule rules[] = {
    {"control", check_socket_path, NULL, 0, false},
    {"control-mode", check_mode, NULL, 0, false},
    {"control-group", check_group, NULL, 0, false},
    {"log-format", check_enum, log_format_names, 0, false},
    {"mode", check_mode, NULL, 0, false},
    {"owner", check_user, NULL, 0, false},
    {"user", check_user, NULL, 0, false},
    {"group", check_group, NULL, 0, false},
    {"fd-protocol", check_enum, fd_protocol_names, 0, false},
    {"ready", check_enum, ready_names, 0, false},
    {"ready-delay", check_duration, NULL, 0, false},
    {"ready-timeout", check_duration, NULL, 0, true},
    {"drain-signal", check_signal, NULL, 0, false},
    {"drain-timeout", check_duration, NULL, 0, false},
    {"kill-mode", check_enum, kill_mode_names, 0, false},
    {"reload", check_enum, reload_names, 0, false},
    {"restart-delay", check_duration, NULL, RESTART_DELAY_MIN, false},
    {"restart-max-delay", check_duration, NULL, RESTART_DELAY_MIN, false},
    {"stdout", check_enum, stdout_names, 0, false},
    {"hook-timeout", check_duration, NULL, 0, true},
    {"canary", check_canary, NULL, 0, false},
    {"canary-hold", check_duration, NULL, 0, false},
    {"canary-weight", check_weight, NULL, 0, false},
    {"check-interval", check_duration, NULL, CHECK_INTERVAL_MIN, false},
    {"check-timeout", check_duration, NULL, 0, true},
    {"watch", check_duration, NULL, 0, false},
    {"release", check_release, NULL, 0, false},
    {"handover", check_enum, handover_names, 0, false},
    {"steer-quiesce", check_duration, NULL, 0, true},
};

/* NULL when v is a good value of key, else why not. */
static char *check_value(const char *key, const char *v, double *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (strcmp(rules[i].key, key) == 0)
			return rules[i].check(&rules[i], v, out);
	abort(); /* every key that has a rule is in the table */
}

/* ---- the text's layout: unknown keys and sections ---- */

static cfg_opt_t *find_opt(cfg_opt_t *opts, const char *name)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

static void report_unknown(struct ctx *x, const struct layout_node *n, const char *what)
{
	const struct layout_node *in = n->parent >= 0 ? &x->lay->nodes[n->parent] : NULL;

	if (in != NULL)
		config_problem(x, n->line, "unknown %s \"%s\" in %s \"%s\"", what, n->name,
			       in->name, in->title);
	else
		config_problem(x, n->line, "unknown %s \"%s\"", what, n->name);
}

/* Reports node i when opts (the options valid where it is) does not allow
 * it, and blanks it so that libconfuse goes on to find the other problems.
 * Returns the options valid inside it, or NULL when it holds none to check. */
static cfg_opt_t *check_node(struct ctx *x, int i, cfg_opt_t *opts)
{
	const struct layout_node *n = &x->lay->nodes[i];
	cfg_opt_t *o = find_opt(opts, n->name);
	int first;

	if (n->kind == LAYOUT_SET || n->kind == LAYOUT_APPEND) {
		if (o != NULL)
			return NULL;
		report_unknown(x, n, "key");
	} else if (n->kind == LAYOUT_CALL) {
		report_unknown(x, n, "key");
	} else if (n->title == NULL) {
		return NULL; /* libconfuse says the title is missing */
	} else if (o == NULL || o->type != CFGT_SEC) {
		report_unknown(x, n, "section");
	} else if ((first = layout_section(x->lay, n->parent, n->name, n->title)) != i) {
		config_problem(x, n->line, "duplicate %s \"%s\" (first on line %d)", n->name,
			       n->title, x->lay->nodes[first].line);
	} else {
		return o->subopts;
	}
	layout_blank(x->lay, n->begin, n->end);
	return NULL;
}

static void check_layout(struct ctx *x, cfg_opt_t *root)
{
	const struct layout *lay = x->lay;
	cfg_opt_t **inside = xcalloc(lay->nnodes, sizeof(*inside));

	for (size_t i = 0; i < lay->nnodes; i++) {
		int parent = lay->nodes[i].parent;
		cfg_opt_t *opts = parent < 0 ? root : inside[parent];

		if (opts != NULL)
			inside[i] = check_node(x, (int)i, opts);
	}
	free(inside);
}

/* ---- libconfuse ---- */

/* libconfuse's error callback has no user pointer: the context of the one
 * parse running (libconfuse's lexer is not reentrant either). */
static struct ctx *parse_ctx;

/* Extracts NAME from a message "BEFORE" NAME "AFTER". */
static bool match_message(const char *msg, const char *before, const char *after, char *name,
			  size_t len)
{
	size_t nb = strlen(before), na = strlen(after), nm = strlen(msg);

	if (nm < nb + na || strncmp(msg, before, nb) != 0 || strcmp(msg + nm - na, after) != 0 ||
	    nm - nb - na >= len)
		return false;
	memcpy(name, msg + nb, nm - nb - na);
	name[nm - nb - na] = '\0';
	return true;
}

/* libconfuse's messages about a value, and what segue says instead. */
static const struct {
	const char *before, *after, *say;
} confuse_says[] = {
    {"invalid integer value for option '", "'", "not an integer"},
    {"integer value for option '", "' is out of range", "number out of range"},
    {"invalid boolean value for option '", "'", "not a boolean (true or false)"},
};

/* A libconfuse message, in segue's words; `pre` names the section. */
static void confuse_message(struct ctx *x, int line, const char *in, const char *title,
			    const char *pre, const char *msg)
{
	char name[256];

	if (strcmp(msg, "premature end of file") == 0 && x->lay != NULL) {
		/* libconfuse counts the blank lines at the end too */
		config_problem(x, x->lay->last_line, "%sunexpected end of file", pre);
		return;
	}
	if (match_message(msg, "no such option '", "'", name, sizeof(name))) {
		if (in != NULL)
			config_problem(x, line, "unknown key \"%s\" in %s \"%s\"", name, in, title);
		else
			config_problem(x, line, "unknown key \"%s\"", name);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(confuse_says); i++)
		if (match_message(msg, confuse_says[i].before, confuse_says[i].after, name,
				  sizeof(name))) {
			config_problem(x, line, "%s%s: %s", pre, name, confuse_says[i].say);
			return;
		}
	config_problem(x, line, "%s%s", pre, msg);
}

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512], pre[300] = "";
	const char *in = NULL, *title = NULL;

	if (parse_ctx == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg != NULL && cfg->title != NULL) {
		in = cfg->name;
		title = cfg->title;
		snprintf(pre, sizeof(pre), "%s \"%s\": ", in, title);
	}
	confuse_message(parse_ctx, cfg != NULL ? cfg->line : 0, in, title, pre, msg);
}

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
		tmp = xasprintf("%s%s\"%.*s\"", out, out[1] ? "," : "", (int)n, p);
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

/* The option tables. Each holds its keys and CFG_END(), with room to spare:
 * check the sizes when adding keys. cfg_init() copies them. */
struct opts {
	cfg_opt_t socket[12];
	cfg_opt_t program[32];
	cfg_opt_t root[15];
};

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
	o[i++] = (cfg_opt_t)CFG_STR("handover", "shared", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("steer-quiesce", "1s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_END();
}

static void build_program_opts(cfg_opt_t *o, const struct config_defaults *d, char *fd_protocol)
{
	int i = 0;

	o[i++] = (cfg_opt_t)CFG_STR("command", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("directory", either(d->directory, ""), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("sockets", "{}", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("workers", d->workers > 0 ? d->workers : 1, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("user", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("group", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("env", "{}", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR_LIST("fd-protocol", fd_protocol, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready", either(d->ready, "delay"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-delay", either(d->ready_delay, "1s"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-command", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("ready-timeout", either(d->ready_timeout, "60s"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("drain-signal", either(d->drain_signal, "TERM"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("drain-timeout", either(d->drain_timeout, "30s"), CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("kill-mode", "group", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("reload", "all-at-once", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("max-surge", 1, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("restart-delay", "100ms", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("restart-max-delay", "30s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("stdout", "inherit", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("release", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("canary", "0", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("canary-hold", "30s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("canary-weight", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("check", "", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("check-interval", "5s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("check-timeout", "5s", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_INT("check-failures", 3, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_BOOL("check-always", cfg_false, CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_STR("watch", "0", CFGF_NONE);
	o[i++] = (cfg_opt_t)CFG_END();
}

cfg_t *config_cfg_new(const struct config_defaults *d)
{
	const int sec = CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES;
	char *fd_protocol = protocol_list(d->fd_protocol);
	struct opts o;
	cfg_opt_t *r = o.root;
	cfg_t *cfg;
	int i = 0;

	build_socket_opts(o.socket);
	build_program_opts(o.program, d, fd_protocol);
	r[i++] = (cfg_opt_t)CFG_STR("control", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("control-mode", "0600", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("control-group", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("pidfile", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("log-format", "logfmt", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("log-file", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("statsd", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("hook", "", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR("hook-timeout", "30s", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_BOOL("fdstore", cfg_false, CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_STR_LIST("admin-listen", "{}", CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_BOOL("exit-on-crash-loop", cfg_false, CFGF_NONE);
	r[i++] = (cfg_opt_t)CFG_SEC("socket", o.socket, sec);
	r[i++] = (cfg_opt_t)CFG_SEC("program", o.program, sec);
	r[i++] = (cfg_opt_t)CFG_END();
	cfg = cfg_init(o.root, CFGF_NONE);
	free(fd_protocol);
	if (cfg == NULL)
		abort(); /* out of memory */
	cfg_set_error_function(cfg, confuse_error);
	return cfg;
}

/* Parses the layout's text, its comments blanked, into cfg. */
static bool parse_text(struct ctx *x, cfg_t *cfg)
{
	FILE *f;
	int rc;

	free(cfg->filename);
	cfg->filename = xstrdup(x->where);
	if (x->lay->len == 0)
		return true;
	/* Not cfg_parse_buf(): it names the file "[buf]" in messages. */
	f = fmemopen(x->lay->text, x->lay->len, "r");
	if (f == NULL) {
		config_problem(x, 0, "cannot read: %s", strerror(errno));
		return false;
	}
	parse_ctx = x;
	rc = cfg_parse_fp(cfg, f);
	parse_ctx = NULL;
	fclose(f);
	return rc == CFG_SUCCESS;
}

/* ---- reading values, with messages naming the key and its line ---- */

struct scope {
	struct ctx *x;
	cfg_t *cfg;
	const char *kind; /* "socket", "program", or NULL for global keys */
	const char *title;
	int sec; /* its layout node, -1 for global keys, -2 when not found */
};

static struct scope scope(struct ctx *x, cfg_t *cfg, const char *kind, const char *title)
{
	struct scope sc = {x, cfg, kind, title != NULL ? title : "", -1};

	if (kind != NULL && x->lay != NULL)
		sc.sec = layout_section(x->lay, -1, kind, sc.title);
	if (sc.sec == -1 && kind != NULL)
		sc.sec = -2;
	return sc;
}

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
		config_problem(sc->x, line, "%s \"%s\": %s", sc->kind, sc->title, msg);
	else
		config_problem(sc->x, line, "%s", msg);
	free(msg);
}

/* The line of key in the scope (NULL: of the scope), else of the scope, else 0. */
static int kline(const struct scope *sc, const char *key)
{
	const struct layout *lay = sc->x->lay;
	const struct layout_node *n;

	if (lay == NULL || sc->sec < -1)
		return 0;
	if (key != NULL && (n = layout_key(lay, sc->sec, key)) != NULL)
		return n->line;
	return sc->sec >= 0 ? lay->nodes[sc->sec].line : 0;
}

/* The line of the nth list item `value` of key, else the key's line. */
static int item_line(const struct scope *sc, const char *key, const char *value, int nth)
{
	int line = 0;

	if (sc->x->lay != NULL && sc->sec >= -1)
		line = layout_item_line(sc->x->lay, sc->sec, key, value, nth);
	return line > 0 ? line : kline(sc, key);
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

/* Checks v, the value of key, against its rule; returns its number. */
static double check_at(const struct scope *sc, int line, const char *key, const char *v)
{
	double out = 0;
	char *why = check_value(key, v, &out);

	if (why != NULL)
		complain(sc, line, "%s: %s", key, why);
	free(why);
	return out;
}

static double get_value(const struct scope *sc, const char *key)
{
	return check_at(sc, kline(sc, key), key, str(sc, key));
}

/* A string that has a rule: user, group, control. */
static char *get_checked(const struct scope *sc, const char *key)
{
	get_value(sc, key);
	return get_str(sc, key);
}

static int get_int(const struct scope *sc, const char *key, long min, long max)
{
	long v = cfg_getint(sc->cfg, key);

	if (v < min)
		complain(sc, kline(sc, key), "%s: must be at least %ld", key, min);
	else if (v > max)
		complain(sc, kline(sc, key), "%s: must be at most %ld", key, max);
	return v < min ? (int)min : v > max ? (int)max : (int)v;
}

static char **get_list(const struct scope *sc, const char *key, size_t *n)
{
	size_t count = cfg_size(sc->cfg, key);
	char **v = xcalloc(count, sizeof(*v));

	for (size_t i = 0; i < count; i++) {
		const char *s = cfg_getnstr(sc->cfg, key, (unsigned)i);

		v[i] = xstrdup(s != NULL ? s : "");
	}
	*n = count;
	return v;
}

/* How many earlier entries of list equal list[i]. */
static int occurrence(char *const list[], size_t i)
{
	int n = 0;

	for (size_t j = 0; j < i; j++)
		n += strcmp(list[j], list[i]) == 0;
	return n;
}

static void check_name(const struct scope *sc)
{
	const char *s = sc->title;

	if (*s == '\0' || strspn(s, CONFIG_NAME_CHARS) != strlen(s))
		complain(sc, kline(sc, NULL),
			 "name may hold only letters, digits, \"_\", \".\" and \"-\"");
}

/* ---- sockets ---- */

static void load_address(const struct scope *sc, const char *v, struct address *addr)
{
	char err[128];

	if (*v == '\0')
		complain(sc, kline(sc, "listen"), "listen is required");
	else if (parse_address(v, addr, err, sizeof(err)) < 0)
		complain(sc, kline(sc, "listen"), "listen: bad address \"%s\": %s", v, err);
}

static void load_socket(struct ctx *x, cfg_t *sec, struct socket_conf *s)
{
	struct scope sc = scope(x, sec, "socket", cfg_title(sec));

	s->name = xstrdup(sc.title);
	s->line = kline(&sc, NULL);
	check_name(&sc);
	s->listen = get_str(&sc, "listen");
	load_address(&sc, s->listen, &s->addr);
	s->backlog = get_int(&sc, "backlog", 1, INT_MAX);
	s->reuseport = cfg_getbool(sec, "reuseport");
	s->v6only = cfg_getbool(sec, "v6only");
	s->nodelay = cfg_getbool(sec, "nodelay");
	s->mode = (mode_t)get_value(&sc, "mode");
	s->owner = get_checked(&sc, "owner");
	s->group = get_checked(&sc, "group");
	s->handover = (enum handover)get_value(&sc, "handover");
	s->steer_quiesce = get_value(&sc, "steer-quiesce");
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
	p->env = get_list(sc, "env", &p->nenv);
	for (size_t i = 0; i < p->nenv; i++)
		if (!valid_env(p->env[i]))
			complain(sc, item_line(sc, "env", p->env[i], occurrence(p->env, i)),
				 "env: bad entry \"%s\" (KEY=VALUE)", p->env[i]);
}

static void load_protocols(const struct scope *sc, struct program_conf *p)
{
	size_t n = cfg_size(sc->cfg, "fd-protocol");

	for (size_t i = 0; i < n; i++) {
		const char *v = cfg_getnstr(sc->cfg, "fd-protocol", (unsigned)i);
		int k = enum_index(fd_protocol_names, v);

		if (k >= 0)
			p->fd_protocols |= 1u << k;
		else
			check_at(sc, item_line(sc, "fd-protocol", v ? v : "", 0), "fd-protocol",
				 v ? v : "");
	}
}

static void load_program_run(const struct scope *sc, struct program_conf *p)
{
	p->command = get_str(sc, "command");
	p->directory = get_str(sc, "directory");
	p->sockets = get_list(sc, "sockets", &p->nsockets);
	p->socket_index = xcalloc(p->nsockets, sizeof(*p->socket_index));
	p->workers = get_int(sc, "workers", 1, MAX_WORKERS);
	p->user = get_checked(sc, "user");
	p->group = get_checked(sc, "group");
	load_env(sc, p);
	load_protocols(sc, p);
}

static void load_program_ready(const struct scope *sc, struct program_conf *p)
{
	p->ready = (enum ready_mode)get_value(sc, "ready");
	p->ready_delay = get_value(sc, "ready-delay");
	p->ready_command = get_str(sc, "ready-command");
	p->ready_timeout = get_value(sc, "ready-timeout");
	p->drain_signal = (int)get_value(sc, "drain-signal");
	p->drain_timeout = get_value(sc, "drain-timeout");
	p->kill_mode = (enum kill_mode)get_value(sc, "kill-mode");
	p->reload = (enum reload_mode)get_value(sc, "reload");
	p->max_surge = get_int(sc, "max-surge", 1, MAX_WORKERS);
	p->restart_delay = get_value(sc, "restart-delay");
	p->restart_max_delay = get_value(sc, "restart-max-delay");
	p->stdout_mode = (enum stdout_mode)get_value(sc, "stdout");
}

static void load_program_deploy(const struct scope *sc, struct program_conf *p)
{
	p->release = get_checked(sc, "release");
	double canary = get_value(sc, "canary");
	p->canary = canary > 0 ? (int)canary : 0;
	p->canary_percent = canary < 0 ? (int)-canary : 0;
	p->canary_hold = get_value(sc, "canary-hold");
	p->canary_weight = (int)get_value(sc, "canary-weight");
	p->check = get_str(sc, "check");
	p->check_interval = get_value(sc, "check-interval");
	p->check_timeout = get_value(sc, "check-timeout");
	p->check_failures = get_int(sc, "check-failures", 1, 1000);
	p->check_always = cfg_getbool(sc->cfg, "check-always");
	p->watch = get_value(sc, "watch");
}

static bool blank_string(const char *s)
{
	return s[strspn(s, " \t\r\n\v\f")] == '\0';
}

/* Checks that need more than one key. */
static void check_program(const struct scope *sc, const struct program_conf *p)
{
	if (blank_string(p->command))
		complain(sc, kline(sc, "command"), "command is required");
	if (p->ready == READY_EXEC && blank_string(p->ready_command))
		complain(sc, kline(sc, "ready"), "ready = \"exec\" needs a ready-command");
	/* Below the floor is reported already. */
	if (p->restart_delay >= RESTART_DELAY_MIN && p->restart_max_delay >= RESTART_DELAY_MIN &&
	    p->restart_max_delay < p->restart_delay)
		complain(sc, kline(sc, "restart-max-delay"),
			 "restart-max-delay must not be less than restart-delay");
	if (p->check_always && blank_string(p->check))
		complain(sc, kline(sc, "check-always"), "check-always needs a check");
	if (p->canary_weight && !p->canary && !p->canary_percent)
		complain(sc, kline(sc, "canary-weight"), "canary-weight needs a canary");
}

static void load_program(struct ctx *x, cfg_t *sec, struct program_conf *p)
{
	struct scope sc = scope(x, sec, "program", cfg_title(sec));

	p->name = xstrdup(sc.title);
	p->line = kline(&sc, NULL);
	check_name(&sc);
	load_program_run(&sc, p);
	load_program_ready(&sc, p);
	load_program_deploy(&sc, p);
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
	const char *why;

	if (*v == '\0')
		return;
	if (parse_address(v, &a, err, sizeof(err)) < 0)
		why = err;
	else if (a.kind != ADDR_TCP)
		why = "must be HOST:PORT";
	else if (address_port(&a) == 0)
		why = "port 0";
	else
		why = NULL;
	if (why != NULL)
		complain(sc, kline(sc, "statsd"), "statsd: bad address \"%s\": %s", v, why);
}

/* admin-listen: one address or a list, "" for none; any socket ADDR. */
static void load_admin(const struct scope *sc, struct config *c)
{
	size_t n;
	char **v = get_list(sc, "admin-listen", &n);
	char err[128];

	c->admin = xcalloc(n, sizeof(*c->admin));
	for (size_t i = 0; i < n; i++) {
		struct socket_conf *s = &c->admin[c->nadmin];

		if (*v[i] == '\0')
			continue;
		*s = (struct socket_conf){.name = xstrdup("admin"),
					  .listen = v[i],
					  .backlog = 64,
					  .mode = 0600,
					  .owner = xstrdup(""),
					  .group = xstrdup("")};
		s->line = item_line(sc, "admin-listen", v[i], occurrence(v, i));
		if (parse_address(v[i], &s->addr, err, sizeof(err)) < 0)
			complain(sc, s->line, "admin-listen: bad address \"%s\": %s", v[i], err);
		c->nadmin++;
	}
	for (size_t i = 0; i < n; i++)
		if (*v[i] == '\0')
			free(v[i]); /* the others are the sockets' now */
	free(v);
}

static void load_globals(struct ctx *x, cfg_t *cfg, const struct config_defaults *d,
			 struct config *c)
{
	struct scope sc = scope(x, cfg, NULL, NULL);

	/* A command-line value wins, and is checked already. */
	if (d->control == NULL)
		get_value(&sc, "control");
	c->control = xstrdup(either(d->control, str(&sc, "control")));
	c->control_mode = (mode_t)get_value(&sc, "control-mode");
	c->control_group = get_checked(&sc, "control-group");
	c->pidfile = xstrdup(either(d->pidfile, str(&sc, "pidfile")));
	if (d->log_format != NULL)
		c->log_format = (enum log_format)enum_index(log_format_names, d->log_format);
	else
		c->log_format = (enum log_format)get_value(&sc, "log-format");
	c->log_file = get_str(&sc, "log-file");
	c->statsd = get_str(&sc, "statsd");
	load_statsd(&sc, c->statsd);
	c->hook = get_str(&sc, "hook");
	c->hook_timeout = get_value(&sc, "hook-timeout");
	c->fdstore = cfg_getbool(cfg, "fdstore");
	load_admin(&sc, c);
	c->exit_on_crash_loop = cfg_getbool(cfg, "exit-on-crash-loop");
}

static void check_listen_dupes(struct ctx *x, const struct config *c)
{
	for (size_t j = 0; j < c->nsockets; j++) {
		const struct socket_conf *b = &c->sockets[j];
		size_t i = 0;

		if (b->addr.kind == ADDR_TCP && address_port(&b->addr) == 0)
			continue; /* port 0: the kernel picks a new one each */
		while (i < j && (*c->sockets[i].listen == '\0' ||
				 !address_equal(&c->sockets[i].addr, &b->addr)))
			i++;
		if (i < j) {
			struct scope sc = scope(x, NULL, "socket", b->name);

			complain(&sc, kline(&sc, "listen"),
				 "listen \"%s\" is already used by socket \"%s\"", b->listen,
				 c->sockets[i].name);
		}
	}
}

static int socket_index(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nsockets; i++)
		if (strcmp(c->sockets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* What a steered socket cannot carry: a rolling reload (the old workers
 * would drain before the commit steers), and a canary without a weight
 * (steered away from until the commit, it would be judged on no traffic). */
static void check_steered(const struct scope *sc, int line, const struct program_conf *p,
			  const char *socket)
{
	if (p->reload == RELOAD_ROLLING)
		complain(sc, line,
			 "socket \"%s\" has handover = \"steer\", which needs "
			 "reload = \"all-at-once\"",
			 socket);
	if ((p->canary > 0 || p->canary_percent > 0) && !p->canary_weight)
		complain(sc, line,
			 "socket \"%s\" has handover = \"steer\", which cannot carry a "
			 "canary without canary-weight (it would get no connection): set "
			 "canary-weight = \"10%%\", or use handover = \"shared\"",
			 socket);
}

/* A shared socket is one kernel socket that every worker accepts from:
 * segue cannot choose who gets a connection, so it cannot weigh a canary. */
static void check_shared(const struct scope *sc, int line, const struct program_conf *p,
			 const char *socket)
{
	if (p->canary_weight)
		complain(sc, line,
			 "canary-weight needs handover = \"steer\" on socket \"%s\" (a shared "
			 "socket cannot steer a share of connections: every worker accepts "
			 "from it)",
			 socket);
}

static void resolve_sockets(struct ctx *x, struct config *c)
{
	for (size_t i = 0; i < c->nprograms; i++) {
		struct program_conf *p = &c->programs[i];
		struct scope sc = scope(x, NULL, "program", p->name);

		for (size_t k = 0; k < p->nsockets; k++) {
			int nth = occurrence(p->sockets, k);
			int line = item_line(&sc, "sockets", p->sockets[k], nth);

			p->socket_index[k] = socket_index(c, p->sockets[k]);
			if (p->socket_index[k] < 0)
				complain(&sc, line, "unknown socket \"%s\"", p->sockets[k]);
			else if (nth > 0)
				complain(&sc, line, "socket \"%s\" listed twice", p->sockets[k]);
			else if (c->sockets[p->socket_index[k]].handover == HANDOVER_STEER)
				check_steered(&sc, line, p, p->sockets[k]);
			else
				check_shared(&sc, line, p, p->sockets[k]);
		}
	}
}

struct config *config_extract(struct ctx *x, cfg_t *cfg, const struct config_defaults *d)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	load_globals(x, cfg, d, c);
	c->nsockets = cfg_size(cfg, "socket");
	c->sockets = xcalloc(c->nsockets, sizeof(*c->sockets));
	for (size_t i = 0; i < c->nsockets; i++)
		load_socket(x, cfg_getnsec(cfg, "socket", (unsigned)i), &c->sockets[i]);
	c->nprograms = cfg_size(cfg, "program");
	c->programs = xcalloc(c->nprograms, sizeof(*c->programs));
	for (size_t i = 0; i < c->nprograms; i++)
		load_program(x, cfg_getnsec(cfg, "program", (unsigned)i), &c->programs[i]);
	if (c->nprograms == 0)
		config_problem(x, x->lay != NULL ? 1 : 0, "no program defined");
	check_listen_dupes(x, c);
	resolve_sockets(x, c);
	return c;
}

/* ---- command-line values ---- */

/* --KEY VALUE, checked by KEY's rule. */
static void check_option(struct ctx *x, const char *key, const char *v)
{
	double out;
	char *why;

	if (v == NULL || (why = check_value(key, v, &out)) == NULL)
		return;
	config_problem(x, 0, "--%s: %s", key, why);
	free(why);
}

/* Problems with command-line values, as "command line: --OPTION: ...". */
static size_t check_defaults(const struct config_defaults *d, FILE *errors)
{
	struct ctx x = {.where = CONFIG_COMMAND_LINE, .errors = errors};
	char *csv = xstrdup(either(d->fd_protocol, "")), *p, *save = NULL;

	if (d->workers < 0 || d->workers > MAX_WORKERS)
		config_problem(&x, 0, "--workers: must be between 1 and %d", MAX_WORKERS);
	check_option(&x, "ready", d->ready);
	check_option(&x, "ready-delay", d->ready_delay);
	check_option(&x, "ready-timeout", d->ready_timeout);
	check_option(&x, "drain-signal", d->drain_signal);
	check_option(&x, "drain-timeout", d->drain_timeout);
	for (p = strtok_r(csv, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
		check_option(&x, "fd-protocol", p);
	free(csv);
	check_option(&x, "control", d->control);
	check_option(&x, "log-format", d->log_format);
	return flush_problems(&x);
}

bool config_begin(struct ctx *x, const char *where, FILE *errors,
		  const struct config_defaults **defs)
{
	static const struct config_defaults none;

	*x = (struct ctx){.where = where, .errors = errors != NULL ? errors : stderr};
	if (*defs == NULL)
		*defs = &none;
	return check_defaults(*defs, x->errors) == 0;
}

/* ---- config_load ---- */

/* The whole file, or NULL after a problem. */
static char *read_file(struct ctx *x, size_t *len)
{
	FILE *f = fopen(x->where, "re");
	size_t cap = 4096, n = 0;
	int err = 0;
	char *buf;

	if (f == NULL) {
		config_problem(x, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap >= MAX_FILE_SIZE)
			break;
		cap *= 2;
		buf = xrealloc(buf, cap + 1);
	}
	if (ferror(f))
		err = errno ? errno : EIO;
	fclose(f);
	if (err != 0)
		config_problem(x, 0, "cannot read: %s", strerror(err));
	else if (n >= MAX_FILE_SIZE)
		config_problem(x, 0, "file too large");
	if (err != 0 || n >= MAX_FILE_SIZE) {
		free(buf);
		return NULL;
	}
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

/* Scans the text, refuses unknown keys and sections, then hands the rest
 * to libconfuse; the layout says where each key is. */
static struct config *load_text(struct ctx *x, const char *buf, size_t len,
				const struct config_defaults *d)
{
	cfg_t *cfg = config_cfg_new(d);
	struct config *c = NULL;
	int scanned = layout_scan(buf, len, x->lay);

	/* What was scanned is checked even when the scan broke off; the break,
	 * the furthest point read, is reported after it. */
	check_layout(x, cfg->opts);
	if (scanned < 0)
		config_problem(x, x->lay->error_line, "%s", x->lay->error);
	else if (parse_text(x, cfg))
		c = config_extract(x, cfg, d);
	cfg_free(cfg);
	return c;
}

/* Loads the text a file held (read_file's, or an upgrade's record of
 * it); the config keeps the text, so that an upgrade can hand it on. */
static struct config *load(const char *file, char *buf, size_t len,
			   const struct config_defaults *defs, FILE *errors)
{
	struct layout lay = {0};
	struct config *c = NULL;
	struct ctx x;

	if (!config_begin(&x, file, errors, &defs)) {
		free(buf);
		return NULL;
	}
	x.lay = &lay;
	if (buf == NULL)
		buf = read_file(&x, &len);
	if (buf != NULL)
		c = load_text(&x, buf, len, defs);
	c = config_end(&x, c);
	layout_free(&lay);
	if (c != NULL) {
		c->file = absolute_path(file);
		c->text = buf;
		c->text_len = len;
	} else {
		free(buf);
	}
	return c;
}

struct config *config_load(const char *file, const struct config_defaults *defs, FILE *errors)
{
	return load(file, NULL, 0, defs, errors);
}

struct config *config_load_text(const char *file, const char *text, size_t len,
				const struct config_defaults *defs, FILE *errors)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	return load(file, copy, len, defs, errors);
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
	for (size_t i = 0; v != NULL && i < n; i++)
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
	free(p->release);
	free(p->check);
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
	if (c == NULL || --c->refs > 0)
		return;
	for (size_t i = 0; i < c->nsockets; i++)
		free_socket(&c->sockets[i]);
	for (size_t i = 0; i < c->nprograms; i++)
		free_program(&c->programs[i]);
	for (size_t i = 0; i < c->nadmin; i++)
		free_socket(&c->admin[i]);
	free(c->admin);
	free(c->sockets);
	free(c->programs);
	free(c->file);
	free(c->text);
	free(c->control);
	free(c->control_group);
	free(c->pidfile);
	free(c->log_file);
	free(c->statsd);
	free(c->hook);
	free(c);
}

const struct socket_conf *config_socket(const struct config *c, const char *name)
{
	int i = socket_index(c, name);

	return i >= 0 ? &c->sockets[i] : NULL;
}

const struct program_conf *config_program(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nprograms; i++)
		if (strcmp(c->programs[i].name, name) == 0)
			return &c->programs[i];
	return NULL;
}

const char *ready_mode_name(enum ready_mode m)
{
	if ((unsigned)m < ARRAY_SIZE(ready_names) - 1)
		return ready_names[m];
	return "unknown";
}
