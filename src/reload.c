/* reload.c: starting a new generation, cutting over, and rolling back. */
/* SPDX-License-Identifier: MIT */
#include "reload.h"
#include "log.h"
#include "supervisor.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum reload_action reload_step(struct reload_machine *m, enum reload_input in)
{
	switch (m->phase) {
	case RELOAD_STOPPED:
		return RELOAD_IGNORED;
	case RELOAD_IDLE:
		if (in == RELOAD_STOP) {
			m->phase = RELOAD_STOPPED;
			return RELOAD_NOTHING;
		}
		if (in == RELOAD_REQUEST) {
			m->phase = RELOAD_RUNNING;
			return RELOAD_BEGIN;
		}
		return RELOAD_NOTHING;
	case RELOAD_RUNNING:
		if (in == RELOAD_STOP) {
			m->phase = RELOAD_STOPPED;
			m->queued = false;
			return RELOAD_NOTHING;
		}
		if (in == RELOAD_REQUEST) {
			bool was = m->queued;
			m->queued = true;
			return was ? RELOAD_IGNORED : RELOAD_QUEUED;
		}
		if (m->queued) {
			m->queued = false;
			return RELOAD_BEGIN;
		}
		m->phase = RELOAD_IDLE;
		return RELOAD_NOTHING;
	}
	return RELOAD_NOTHING;
}

/* --- the impure part ----------------------------------------------------- */

static struct reload_machine machine;
static unsigned seq_started; /* reloads begun so far; the running one's number */

/* The release that served before the last deploy: its config and the
 * directories its programs were resolved to, for `rollback`. */
struct release {
	struct config *config;
	size_t ndirs;
	char **names; /* program names */
	char **dirs;  /* resolved directories, NULL for none */
};
static struct release previous;
static bool rollback_next; /* the next begin() starts `previous` */

static void begin(void);

static void finished(void)
{
	if (reload_step(&machine, RELOAD_FINISHED) == RELOAD_BEGIN)
		begin();
}

static void release_clear(struct release *r)
{
	for (size_t i = 0; i < r->ndirs; i++) {
		free(r->names[i]);
		free(r->dirs[i]);
	}
	free(r->names);
	free(r->dirs);
	if (r->config)
		config_unref(r->config);
	memset(r, 0, sizeof(*r));
}

static void release_record(struct release *r, const struct generation *g)
{
	release_clear(r);
	r->config = config_ref(g->config);
	r->ndirs = g->nprograms;
	r->names = xcalloc(g->nprograms, sizeof(char *));
	r->dirs = xcalloc(g->nprograms, sizeof(char *));
	for (size_t i = 0; i < g->nprograms; i++) {
		r->names[i] = xstrdup(g->programs[i].conf->name);
		r->dirs[i] = g->programs[i].directory ? xstrdup(g->programs[i].directory) : NULL;
	}
}

/* A rollback's generation runs in the directories the release ran in,
 * wherever the `current` symlink points now. */
static void pin_directories(struct generation *g, const struct release *r)
{
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		for (size_t j = 0; j < r->ndirs; j++) {
			if (r->dirs[j] && strcmp(r->names[j], p->conf->name) == 0) {
				p->directory = xstrdup(r->dirs[j]);
				p->pinned = true;
			}
		}
	}
}

static json_t *reload_fields(void)
{
	return json_pack("{s:I}", "reload", (json_int_t)seq_started);
}

static void tell_systemd_done(void)
{
	char line[512];
	supervisor_status_line(line, sizeof(line));
	char *msg = xasprintf("READY=1\nSTATUS=%s", line);
	supervisor_notify_systemd(msg);
	free(msg);
}

static char *join_lines(const char *text)
{
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	char *out = xcalloc(1, len * 2 + 1);
	char *o = out;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			*o++ = ';';
			*o++ = ' ';
		} else {
			*o++ = text[i];
		}
	}
	return out;
}

/* Keys read once at start: a reload that changes them says so. */
static void warn_start_only(const struct config *old, const struct config *c)
{
	static const char *const fmt = "%s changed in the config: it takes effect when segue restarts";
	if (strcmp(old->control, c->control) != 0 || old->control_mode != c->control_mode ||
	    strcmp(old->control_group, c->control_group) != 0)
		warn(fmt, "control");
	if (strcmp(old->pidfile, c->pidfile) != 0)
		warn(fmt, "pidfile");
	if (old->log_format != c->log_format || strcmp(old->log_file, c->log_file) != 0)
		warn(fmt, "log-format or log-file");
}

/* Reads the config again; in quick mode there is no file and the running
 * config serves again (a restart of the app onto new code). */
static struct config *load_config(void)
{
	if (!sv.config_file)
		return config_ref(sv.config);
	char *text = NULL;
	size_t len = 0;
	FILE *errors = open_memstream(&text, &len);
	if (!errors)
		abort();
	struct config *c = config_load(sv.config_file, &sv.defaults, errors);
	fclose(errors);
	if (c)
		warn_start_only(sv.config, c);
	if (!c) {
		/* one line for the log: problems are joined by "; " */
		char *joined = join_lines(text);
		free(text);
		text = joined;
		json_t *f = reload_fields();
		json_object_set_new(f, "file", json_string(sv.config_file));
		event_emit(LEVEL_ERROR, "config_rejected", f, "%s", text);
		snprintf(sv.last_reload, sizeof(sv.last_reload), "config rejected: %s", text);
	}
	free(text);
	return c;
}

/* Workers per program: the new config's, unless it did not change the
 * program's `workers` and an operator scaled it since (TTIN/TTOU, scale). */
static int desired_workers(const struct program_run *p)
{
	const struct program_run *old = generation_program(sv.serving, p->conf->name);
	if (old && old->conf->workers == p->conf->workers)
		return old->desired;
	return p->conf->workers;
}

static void start_program(struct program_run *p)
{
	int desired = desired_workers(p);
	const struct program_run *old = generation_program(sv.serving, p->conf->name);
	program_scale(p, desired);
	if (p->conf->reload != RELOAD_ROLLING)
		return;
	if (!old) {
		/* nothing to roll from: start every slot */
		for (int i = 0; i < desired; i++)
			worker_spawn(p, i);
		p->next_slot = desired;
		return;
	}
	for (; p->next_slot < desired && p->next_slot < p->conf->max_surge; p->next_slot++)
		worker_spawn(p, p->next_slot);
}

static void fail(const char *reason);
static void succeed(void);

static void begin(void)
{
	seq_started++;
	sv.reload_started = now_mono();
	char *state = xasprintf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
				(unsigned long long)(now_mono() * 1e6));
	supervisor_notify_systemd(state);
	free(state);
	bool rollback = rollback_next;
	rollback_next = false;
	struct release from = previous;
	struct config *c = rollback ? config_ref(previous.config) : load_config();
	if (!c) {
		sv.reloads_failed++;
		tell_systemd_done();
		finished();
		return;
	}
	char err[512];
	struct generation *g = generation_new(c, err, sizeof(err));
	config_unref(c);
	if (!g) {
		json_t *f = reload_fields();
		json_object_set_new(f, "reason", json_string(err));
		event_emit(LEVEL_ERROR, "reload_failed", f, "%s", err);
		snprintf(sv.last_reload, sizeof(sv.last_reload), "reload failed: %.400s", err);
		sv.reloads_failed++;
		tell_systemd_done();
		finished();
		return;
	}
	g->state = GEN_STARTING;
	if (rollback)
		pin_directories(g, &from);
	sv.pending = g;
	for (size_t i = 0; i < g->nprograms && sv.pending == g; i++)
		start_program(&g->programs[i]);
	if (sv.pending == g && generation_all_ready(g))
		succeed();
}

unsigned reload_request(const char *why)
{
	json_t *f = json_pack("{s:s, s:I}", "source", why, "reload", (json_int_t)(seq_started + 1));
	enum reload_action a = reload_step(&machine, RELOAD_REQUEST);
	static const char *const what[] = {
		[RELOAD_NOTHING] = "", [RELOAD_BEGIN] = "starting a new generation",
		[RELOAD_QUEUED] = "queued after the running reload",
		[RELOAD_IGNORED] = "coalesced with the queued reload",
	};
	event_emit(LEVEL_INFO, "reload_requested", f, "%s", what[a]);
	unsigned seq = seq_started + 1;
	if (a == RELOAD_BEGIN)
		begin();
	return a == RELOAD_IGNORED && machine.phase == RELOAD_STOPPED ? 0 : seq;
}

unsigned reload_rollback(const char *why, char *err, size_t len)
{
	if (!previous.config) {
		snprintf(err, len, "no previous generation to roll back to");
		return 0;
	}
	if (machine.phase != RELOAD_IDLE) {
		snprintf(err, len, machine.phase == RELOAD_STOPPED ? "segue is stopping"
				   : "a reload is running: try again when it ends");
		return 0;
	}
	rollback_next = true;
	return reload_request(why);
}

void reload_forget(void)
{
	release_clear(&previous);
}

void reload_stop(void)
{
	reload_step(&machine, RELOAD_STOP);
	if (sv.pending)
		fail("segue is stopping");
}

bool reload_running(void)
{
	return machine.phase == RELOAD_RUNNING;
}

static void retire(struct generation *old)
{
	old->state = GEN_RETIRED;
	json_t *f = json_pack("{s:I, s:I}", "generation", (json_int_t)old->number,
			      "workers", (json_int_t)generation_live_workers(old));
	event_emit(LEVEL_INFO, "drain_started", f, "draining generation %u", old->number);
	generation_drain(old);
	generation_maybe_free(old);
}

static void succeed(void)
{
	struct generation *g = sv.pending, *old = sv.serving;
	g->state = GEN_SERVING;
	sv.serving = g;
	sv.pending = NULL;
	config_unref(sv.config);
	sv.config = config_ref(g->config);
	sv.reloads_ok++;
	double ms = (now_mono() - sv.reload_started) * 1000.0;
	sv.last_reload_seconds = ms / 1000.0;
	json_t *f = reload_fields();
	json_object_set_new(f, "generation", json_integer(g->number));
	json_object_set_new(f, "duration_ms", json_integer((json_int_t)(ms + 0.5)));
	event_emit(LEVEL_INFO, "reload_succeeded", f, "generation %u serving after %.0f ms",
		   g->number, ms);
	snprintf(sv.last_reload, sizeof(sv.last_reload), "generation %u deployed", g->number);
	if (old) {
		release_record(&previous, old);
		retire(old);
	}
	tell_systemd_done();
	finished();
}

/* After a failed deploy the `current` symlink may name the bad release:
 * the serving generation's workers, respawned after a crash or below, stay
 * in the directory they were started in. Rolling reloads drained old
 * workers as their replacements became ready: those slots get an
 * old-generation worker again. */
static void restore_old_slots(const struct generation *failed)
{
	for (size_t i = 0; sv.serving && i < sv.serving->nprograms; i++)
		if (sv.serving->programs[i].directory)
			sv.serving->programs[i].pinned = true;
	for (size_t i = 0; sv.serving && i < failed->nprograms; i++) {
		struct program_run *old = generation_program(sv.serving, failed->programs[i].conf->name);
		for (int j = 0; old && j < old->desired; j++)
			if (!old->slots[j]->worker && !ev_is_active(&old->slots[j]->restart))
				worker_spawn(old, j);
	}
}

static void fail(const char *reason)
{
	struct generation *g = sv.pending;
	g->state = GEN_FAILED;
	sv.pending = NULL;
	sv.reloads_failed++;
	json_t *f = reload_fields();
	json_object_set_new(f, "generation", json_integer(g->number));
	json_object_set_new(f, "reason", json_string(reason));
	event_emit(LEVEL_ERROR, "reload_failed", f, "generation %u rolled back: %s", g->number,
		   reason);
	snprintf(sv.last_reload, sizeof(sv.last_reload), "generation %u rolled back: %.400s",
		 g->number, reason);
	generation_drain(g);
	restore_old_slots(g);
	generation_maybe_free(g);
	tell_systemd_done();
	finished();
}

static void roll_on(struct worker *w)
{
	struct program_run *p = w->prog;
	struct program_run *old = generation_program(sv.serving, p->conf->name);
	if (!old)
		return;
	if (w->slot < old->nslots && old->slots[w->slot]->worker) {
		ev_timer_stop(sv.loop, &old->slots[w->slot]->restart);
		worker_drain(old->slots[w->slot]->worker);
	}
	if (p->next_slot < p->desired) {
		worker_spawn(p, p->next_slot);
		p->next_slot++;
	}
}

void reload_worker_ready(struct worker *w)
{
	struct generation *g = w->prog->gen;
	if (g == sv.serving && !sv.ever_ready && generation_all_ready(g)) {
		sv.ever_ready = true;
		tell_systemd_done();
	}
	if (g != sv.pending)
		return;
	if (w->prog->conf->reload == RELOAD_ROLLING)
		roll_on(w);
	if (sv.pending == g && generation_all_ready(g))
		succeed();
}

void reload_worker_failed(struct worker *w, const char *reason)
{
	if (w->prog->gen != sv.pending)
		return;
	char why[512];
	snprintf(why, sizeof(why), "%s: %s", w->prog->conf->name, reason);
	fail(why);
}
