/* ctl-progress.c: reload, rollback and upgrade --wait with their progress, read from the events
 * stream. */
/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Where a program stands in the reload. Canary, watch and the result come
 * from the deploy-safety events (issue 11); without them a reload goes
 * from starting (or rolling) through draining to serving. */
enum phase { STARTING, CANARY, ROLLING, DRAINING, WATCH, SERVING, FAILED, UPGRADING, UPGRADED };

struct prog {
	char *name;	   /* printable */
	long desired;	   /* from status before the reload; -1: a new program */
	long slots, ready; /* of the new generation: highest slot + 1, ready workers */
	enum phase phase;
	long long until; /* CANARY, WATCH: when it ends (now_ms) */
	char *why;	 /* FAILED: segue's reason, printable */
	int shown_phase; /* what the last plain line said, to print only changes */
	long shown_ready, shown_total;
};

struct progress {
	struct term term;   /* standard error's; live only if standard output is a terminal too */
	bool quiet;	    /* --quiet: nothing until the result */
	long long start;    /* now_ms when the request went out */
	long long serving;  /* generation serving before the reload */
	long long gen;	    /* the reload's generation, 0 until a worker of it shows */
	long long draining; /* the generation told to drain, 0: none yet */
	char *release;	    /* the new generation's release, printable, or NULL */
	struct prog *progs;
	size_t nprogs;
	int drawn; /* live: lines on screen that the next draw replaces */
};

/* ---- the model: programs and phases ---- */

static struct prog *prog_named(struct progress *p, const char *name)
{
	struct prog *g;

	for (size_t i = 0; i < p->nprogs; i++)
		if (!strcmp(p->progs[i].name, name))
			return &p->progs[i];
	p->progs = xrealloc(p->progs, (p->nprogs + 1) * sizeof *p->progs);
	g = &p->progs[p->nprogs++];
	*g = (struct prog){.name = printable(name), .desired = -1, .shown_phase = -1};
	return g;
}

/* The program an event names, or NULL when it names none (a reload's
 * events: they concern every program). */
static struct prog *event_prog(struct progress *p, const json_t *e)
{
	const char *name = json_string_value(json_object_get(e, "program"));

	return name && *name ? prog_named(p, name) : NULL;
}

static void set_phase(struct progress *p, struct prog *only, enum phase ph, double secs,
		      const char *why)
{
	for (size_t i = 0; i < p->nprogs; i++) {
		struct prog *g = &p->progs[i];

		if (only && g != only)
			continue;
		/* a drain that begins during a watch (a steered handover's) keeps
		 * the window's end, which comes back when the drain is over */
		if (ph != DRAINING || g->phase != WATCH)
			g->until = secs > 0 ? now_ms() + (long long)(secs * 1000) : 0;
		g->phase = ph;
		if (why) {
			free(g->why);
			g->why = printable(why);
		}
	}
}

static void set_release(struct progress *p, const json_t *e)
{
	if (!json_is_string(json_object_get(e, "release")))
		return;
	free(p->release);
	p->release = printable(jstr(e, "release"));
}

/* The serving generation and every program's desired workers, asked
 * once before the reload: events carry neither. */
static void learn_status(struct progress *p, const json_t *st)
{
	size_t i;
	json_t *prog;

	p->serving = json_integer_value(json_object_get(st, "generation"));
	json_array_foreach (json_object_get(st, "programs"), i, prog) {
		const char *name = json_string_value(json_object_get(prog, "name"));

		if (name)
			prog_named(p, name)->desired =
			    (long)json_integer_value(json_object_get(prog, "desired"));
	}
}

static long long jint(const json_t *e, const char *key)
{
	return json_integer_value(json_object_get(e, key));
}

/* A new reload begins (ours, or one before it): its generation is the
 * first newer than the serving one that spawns a worker. */
static void reload_began(struct progress *p)
{
	p->gen = 0;
	p->draining = 0;
	for (size_t i = 0; i < p->nprogs; i++)
		p->progs[i].slots = p->progs[i].ready = 0;
	set_phase(p, NULL, STARTING, 0, NULL);
}

/* Worker events: the new generation's spawns and readiness; an old
 * worker that ends before the cut-over means a rolling reload. */
static void worker_event(struct progress *p, const char *name, const json_t *e)
{
	long long gen = jint(e, "generation");
	struct prog *g = event_prog(p, e);

	if (!g)
		return;
	if (!p->gen && gen > p->serving && !strcmp(name, "worker_spawned"))
		p->gen = gen;
	if (gen == p->gen && !strcmp(name, "worker_spawned") && jint(e, "slot") >= g->slots)
		g->slots = (long)jint(e, "slot") + 1;
	else if (gen == p->gen && !strcmp(name, "worker_ready"))
		g->ready++;
	else if (gen == p->serving && p->gen && !strcmp(name, "worker_exited") &&
		 (g->phase == STARTING || g->phase == ROLLING))
		g->phase = ROLLING;
}

/* The new generation serves: all its workers are ready. The phase waits
 * for the next event (drain_started follows at once). */
static void cut_over(struct progress *p, const json_t *e)
{
	p->gen = p->serving = jint(e, "generation");
	for (size_t i = 0; i < p->nprogs; i++) {
		struct prog *g = &p->progs[i];

		g->ready = g->slots > 0 ? g->slots : g->desired;
	}
}

/* The old generation has no worker left; a watch window goes on. */
static void drained(struct progress *p)
{
	for (size_t i = 0; i < p->nprogs; i++)
		if (p->progs[i].phase == DRAINING)
			p->progs[i].phase = p->progs[i].until > now_ms() ? WATCH : SERVING;
}

/* The reload's own events, and issue 11's canary and watch. */
static void reload_event(struct progress *p, const char *name, const json_t *e)
{
	struct prog *g = event_prog(p, e);

	if (strncmp(name, "drain_", 6) != 0) /* those name the old generation's */
		set_release(p, e);
	if (!strcmp(name, "reload_started"))
		reload_began(p);
	else if (!strcmp(name, "canary_started"))
		set_phase(p, g, CANARY, json_number_value(json_object_get(e, "hold_s")), NULL);
	else if (!strcmp(name, "canary_passed"))
		set_phase(p, g, STARTING, 0, NULL);
	else if (!strcmp(name, "canary_failed") || !strcmp(name, "reload_failed") ||
		 !strcmp(name, "upgrade_failed"))
		set_phase(p, g, FAILED, 0, jstr(e, "reason"));
	else if (!strcmp(name, "auto_rollback"))
		set_phase(p, NULL, FAILED, 0, jstr(e, "reason"));
	else if (!strcmp(name, "reload_succeeded"))
		cut_over(p, e);
	else if (!strcmp(name, "drain_started")) {
		p->draining = jint(e, "generation");
		set_phase(p, NULL, DRAINING, 0, NULL);
	} else if (!strcmp(name, "watch_started"))
		set_phase(p, NULL, WATCH, json_number_value(json_object_get(e, "watch_s")), NULL);
	else if (!strcmp(name, "watch_passed"))
		set_phase(p, NULL, SERVING, 0, NULL);
	else if (!strcmp(name, "drain_finished") && jint(e, "generation") == p->draining)
		drained(p);
	else if (!strcmp(name, "upgrade_started"))
		set_phase(p, NULL, UPGRADING, 0, NULL);
	else if (!strcmp(name, "upgrade_succeeded"))
		set_phase(p, NULL, UPGRADED, 0, NULL);
}

static void on_event(struct progress *p, const char *line, size_t len)
{
	json_t *e = json_loadb(line, len, 0, NULL);
	const char *name = jstr(e, "event");

	if (!strncmp(name, "worker_", 7))
		worker_event(p, name, e);
	else if (*name)
		reload_event(p, name, e);
	json_decref(e);
}

/* ---- what is shown ---- */

static long prog_total(const struct prog *g)
{
	return g->slots > g->desired ? g->slots : g->desired;
}

static long long secs_left(const struct prog *g)
{
	long long ms = g->until - now_ms();

	return ms > 0 ? (ms + 999) / 1000 : 0;
}

static const char *const phase_colour[] = {
    [STARTING] = SGR_CYAN,	 [CANARY] = SGR_YELLOW,	 [ROLLING] = SGR_CYAN,
    [DRAINING] = SGR_CYAN,	 [WATCH] = SGR_YELLOW,	 [SERVING] = SGR_GREEN,
    [FAILED] = SGR_RED SGR_BOLD, [UPGRADING] = SGR_CYAN, [UPGRADED] = SGR_GREEN,
};

static const char *const phase_name[] = {
    [STARTING] = "starting", [CANARY] = "canary",	[ROLLING] = "rolling",
    [DRAINING] = "draining", [WATCH] = "watch",		[SERVING] = "serving",
    [FAILED] = "failed",     [UPGRADING] = "upgrading", [UPGRADED] = "upgraded",
};

/* "starting", "canary 8s left", "rolling 1/2", "draining generation 1". */
static void phase_text(const struct progress *p, const struct prog *g, char *buf, size_t len)
{
	const char *name = phase_name[g->phase];

	if (g->phase == CANARY || g->phase == WATCH)
		snprintf(buf, len, "%s %llds left", name, secs_left(g));
	else if (g->phase == ROLLING)
		snprintf(buf, len, "%s %ld/%ld", name, g->ready, prog_total(g));
	else if (g->phase == DRAINING && p->draining)
		snprintf(buf, len, "%s generation %lld", name, p->draining);
	else if (g->phase == DRAINING)
		snprintf(buf, len, "%s the old generation", name);
	else if (g->phase == FAILED && g->why && *g->why)
		snprintf(buf, len, "%s (%s)", name, g->why);
	else
		snprintf(buf, len, "%s", name);
}

/* ", ready 1/2, generation 2, release r2": what follows the phase. */
static void details(const struct progress *p, const struct prog *g, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (prog_total(g) > 0)
		n = snprintf(buf, len, ", ready %ld/%ld", g->ready, prog_total(g));
	if (p->gen && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", generation %lld", p->gen);
	if (p->release && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", release %s", p->release);
}

/* Prints at most *ROOM columns of S on standard error. */
static void put_cut(const char *s, size_t *room)
{
	size_t bytes = 0, cols = 0;

	while (s[bytes] && cols < *room) {
		bytes++;
		while (((unsigned char)s[bytes] & 0xc0) == 0x80)
			bytes++;
		cols++;
	}
	fwrite(s, 1, bytes, stderr);
	*room -= cols;
}

static size_t term_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

/* Redraws every program's line in place (a terminal). */
static void draw_live(struct progress *p)
{
	const struct term *t = &p->term;

	if (p->drawn)
		fprintf(stderr, "\033[%dA", p->drawn);
	for (size_t i = 0; i < p->nprogs; i++) {
		const struct prog *g = &p->progs[i];
		char phase[256], rest[256], elapsed[48];
		size_t room = term_columns() - 1; /* the last column would wrap */

		phase_text(p, g, phase, sizeof phase);
		details(p, g, rest, sizeof rest);
		format_age((double)(now_ms() - p->start) / 1000, elapsed + 2, sizeof elapsed - 2);
		memcpy(elapsed, ", ", 2);
		fprintf(stderr, "\r\033[K%s", term_sgr(t, SGR_BOLD));
		put_cut(g->name, &room);
		fputs(term_sgr(t, SGR_RESET), stderr);
		put_cut(": ", &room);
		fputs(term_sgr(t, phase_colour[g->phase]), stderr);
		put_cut(phase, &room);
		fputs(term_sgr(t, SGR_RESET), stderr);
		put_cut(rest, &room);
		put_cut(elapsed, &room);
		fputc('\n', stderr);
	}
	p->drawn = (int)p->nprogs;
	fflush(stderr);
}

/* Whether G changed since its last plain line (and notes that it did). */
static bool changed(const struct progress *p, struct prog *g)
{
	if (g->shown_phase == (int)g->phase && g->shown_ready == g->ready &&
	    g->shown_total == prog_total(g))
		return false;
	g->shown_phase = (int)g->phase;
	g->shown_ready = g->ready;
	g->shown_total = prog_total(g);
	return true;
}

/* A plain line for every program whose phase or ready count changed since its last one, with the
 * local time: for logs. */
static void draw_plain(struct progress *p)
{
	for (size_t i = 0; i < p->nprogs; i++) {
		struct prog *g = &p->progs[i];
		char phase[256], rest[256], when[32];
		time_t now = time(NULL);
		struct tm tm;

		if (!changed(p, g))
			continue;
		phase_text(p, g, phase, sizeof phase);
		details(p, g, rest, sizeof rest);
		if (!localtime_r(&now, &tm) ||
		    !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(when, sizeof when, "?");
		fprintf(stderr, "%s %s: %s%s\n", when, g->name, phase, rest);
	}
	fflush(stderr);
}

static void draw(struct progress *p)
{
	if (p->term.live)
		draw_live(p);
	else
		draw_plain(p);
}

/* ---- the wait ---- */

static void read_events(struct progress *p, struct conn *ev)
{
	size_t len;
	char *line;

	if (!ev || ev->fd < 0)
		return;
	if (!conn_read_now(ev)) { /* segue went away: the answer says how it ended */
		close(ev->fd);
		ev->fd = -1;
	}
	while ((line = conn_buffered(ev, &len)))
		on_event(p, line, len);
}

/* How long poll() may sleep: until the deadline, and on a live terminal
 * until the next whole second, when the elapsed time changes. */
static int poll_ms(const struct progress *p, const struct conn *c)
{
	int ms = remaining_ms(c); /* exits at the deadline */
	int tick = 1000 - (int)((now_ms() - p->start) % 1000);

	if (p->term.live && (ms < 0 || tick < ms))
		return tick;
	return ms;
}

/* Shows the events that come on EV until the answer arrives on C; the
 * answer line, or NULL when segue closed the connection first. */
static char *wait_answer(struct progress *p, struct conn *c, struct conn *ev, size_t *len)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = c->fd, .events = POLLIN},
					{.fd = ev ? ev->fd : -1, .events = POLLIN}};
		char *line;
		int n = poll(pfd, 2, poll_ms(p, c));

		if (n < 0 && errno != EINTR)
			die(EXIT_TROUBLE, "poll: %s", strerror(errno));
		if (n > 0 && pfd[1].revents)
			read_events(p, ev);
		if (n > 0 && pfd[0].revents)
			conn_read_now(c);
		if ((line = conn_buffered(c, len))) {
			read_events(p, ev); /* what came with it: the cut-over */
			return line;
		}
		if (c->eof)
			return NULL;
		draw(p);
	}
}

/* The answer decides the last line: the events may lag behind it. */
static void conclude(struct progress *p, const struct options *o, const char *line, size_t len)
{
	json_t *a = json_loadb(line, len, 0, NULL);

	if (!json_is_object(a))
		return; /* answer_show says what went wrong */
	if (!jbool(a, "ok"))
		set_phase(p, NULL, FAILED, 0, jstr(a, "error"));
	else if (o->cmd->kind == REQ_UPGRADE)
		set_phase(p, NULL, UPGRADED, 0, NULL);
	else {
		if (json_is_integer(json_object_get(a, "generation")))
			cut_over(p, a);
		set_phase(p, NULL, SERVING, 0, NULL);
	}
	json_decref(a);
	draw(p);
}

static void progress_free(struct progress *p)
{
	for (size_t i = 0; i < p->nprogs; i++) {
		free(p->progs[i].name);
		free(p->progs[i].why);
	}
	free(p->progs);
	free(p->release);
}

int progress_wait(const struct options *o, struct conn *c, const char *request, size_t len)
{
	struct progress p = {.term = term_of(STDERR_FILENO)};
	struct conn ev = {.fd = -1};
	bool events = conn_subscribe(&ev, c); /* refused (too many streams): no progress */
	char *line;
	int status;

	if (!isatty(STDOUT_FILENO)) /* | cat, > file: plain lines, for a log */
		p.term.live = p.term.colour = false;
	if (o->cmd->kind == REQ_UPGRADE)
		prog_named(&p, "segue")->phase = UPGRADING;
	else {
		json_t *st = conn_ask(c, "status\n");

		if (jbool(st, "ok"))
			learn_status(&p, st);
		json_decref(st);
	}
	p.start = now_ms();
	conn_send(c, request, len); /* a hang-up may leave a line that says why */
	if (events)
		draw(&p);
	line = wait_answer(&p, c, events ? &ev : NULL, &len);
	if (!line)
		die(EXIT_TROUBLE, "segue closed the connection before answering");
	if (events)
		conclude(&p, o, line, len);
	status = answer_show(o, c, line, len);
	conn_close(&ev);
	progress_free(&p);
	return status;
}
