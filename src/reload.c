/* reload.c: the reload: requests coalesced by a small pure machine, and
 * each reload a transaction that plans, then commits or aborts. */
/* SPDX-License-Identifier: MIT */
#include "reload.h"
#include "hold.h"
#include "log.h"
#include "model.h"
#include "state.h"
#include "steer.h"
#include "utf8.h"
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum reload_action reload_step(struct reload_machine *m, enum reload_input in)
{
	switch (m->phase) {
	case RELOAD_STOPPED:
		return RELOAD_IGNORED;
	case RELOAD_IDLE:
		if (in == RELOAD_STOP)
			m->phase = RELOAD_STOPPED;
		if (in != RELOAD_REQUEST)
			return RELOAD_NOTHING;
		m->phase = RELOAD_RUNNING;
		return RELOAD_BEGIN;
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

int rolling_next(const struct rolling_view *v, int *drain, int *start)
{
	int n = 0, starting = 0;
	for (int i = 0; i < v->next_slot && i < v->desired; i++) {
		if (v->new_ready[i] && !v->taken[i])
			drain[n++] = i;
		if (v->new_starting[i])
			starting++;
	}
	int room = v->max_surge - starting, left = v->desired - v->next_slot;
	*start = room < 0 ? 0 : room < left ? room : left < 0 ? 0 : left;
	return n;
}

/* --- the impure part: one transaction at a time -------------------------- */

/* A shared socket whose backlog or name the new config changes: applied
 * only at commit. */
struct socket_change {
	struct held_socket *held;
	const struct socket_conf *to;
};

struct transaction {
	unsigned id;
	bool rollback;
	double started;
	struct generation *gen;
	size_t nchanges;
	struct socket_change *changes;
	/* rolling: per program of gen, new slots started and the old slots
	 * taken over (drained for their replacement), by slot index */
	int *next_slot;
	bool **taken;
	int *ntaken;
	bool handing_over; /* committed; the old generation drains once the
			      steered sockets are quiet (steer.h) */
};

/* The release that served before the last deploy: its config and the
 * directories its programs were resolved to, for `rollback`. */
struct release {
	struct config *config;
	size_t n;
	char **names;
	char **dirs; /* NULL for none */
};

static struct reload_machine machine;
static unsigned seq; /* reloads begun so far */
static struct transaction *running;
static struct release previous;
static bool rollback_next; /* the next begin() starts `previous` */
static struct reload_result last;
static const char *config_file;
static const struct config_defaults *defaults;

void reload_init(const char *file, const struct config_defaults *defs)
{
	config_file = file;
	defaults = defs;
}

static void release_clear(struct release *r)
{
	for (size_t i = 0; i < r->n; i++) {
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
	r->n = g->nprograms;
	r->names = xcalloc(g->nprograms + 1, sizeof(char *));
	r->dirs = xcalloc(g->nprograms + 1, sizeof(char *));
	for (size_t i = 0; i < g->nprograms; i++) {
		r->names[i] = xstrdup(g->programs[i].conf->name);
		r->dirs[i] = g->programs[i].directory ? xstrdup(g->programs[i].directory) : NULL;
	}
}

/* A rollback's generation runs in the directories the release ran in,
 * wherever the `current` symlink points now. */
static void pin_directories(struct generation *g, const struct release *r)
{
	for (size_t i = 0; i < g->nprograms; i++)
		for (size_t j = 0; j < r->n; j++)
			if (r->dirs[j] && strcmp(r->names[j], g->programs[i].conf->name) == 0)
				model_program_set_directory(&g->programs[i], r->dirs[j], true);
}

static json_t *reload_fields(unsigned id)
{
	return json_pack("{s:I}", "reload", (json_int_t)id);
}

/* --- ending a reload ----------------------------------------------------- */

static void begin(void);

static void transaction_free(struct transaction *t)
{
	for (size_t i = 0; t->gen && i < t->gen->nprograms; i++)
		free(t->taken[i]);
	free(t->taken);
	free(t->ntaken);
	free(t->next_slot);
	free(t->changes);
	free(t);
}

/* Records how reload `id` ended, before its event goes out: whoever
 * waits for it reads the record. */
static void record(unsigned id, enum reload_outcome outcome, unsigned gen, double started,
		   const char *reason)
{
	memset(&last, 0, sizeof(last));
	last.id = id;
	last.outcome = outcome;
	last.generation = gen;
	last.duration_ms = (now_mono() - started) * 1000.0;
	snprintf(last.reason, sizeof(last.reason), "%s", reason ? reason : "");
	struct counters *k = model_counters();
	if (outcome == RELOAD_SUCCEEDED) {
		k->reloads_ok++;
		k->last_reload_seconds = last.duration_ms / 1000.0;
	} else {
		k->reloads_failed++;
	}
}

/* The running transaction is over: a queued reload may begin. */
static void finish(void)
{
	transaction_free(running);
	running = NULL;
	if (reload_step(&machine, RELOAD_FINISHED) == RELOAD_BEGIN)
		begin();
}

static void retire(struct generation *old)
{
	model_generation_set_state(old, GEN_RETIRED);
	json_t *f = json_pack("{s:I, s:I}", "generation", (json_int_t)old->number, "workers",
			      (json_int_t)old->live);
	event_emit(LEVEL_INFO, "drain_started", f, "draining generation %u", old->number);
	worker_drain_generation(old);
}

/* The committed reload's old generation (by number: its workers may all
 * have gone meanwhile) drains now; the transaction ends. */
static void handed_over(unsigned old_number)
{
	for (struct generation *g = model->generations; g; g = g->next)
		if (g->number == old_number && g->state == GEN_SERVING)
			retire(g);
	finish();
}

static void commit(struct transaction *t)
{
	struct generation *g = t->gen, *old = model->serving;
	for (size_t i = 0; i < t->nchanges; i++)
		hold_apply(t->changes[i].held, t->changes[i].to);
	model_generation_set_state(g, GEN_SERVING);
	model_set_serving(g);
	model_set_pending(NULL);
	model_set_config(g->config);
	record(t->id, RELOAD_SUCCEEDED, g->number, t->started, NULL);
	json_t *f = reload_fields(t->id);
	json_object_set_new(f, "generation", json_integer(g->number));
	json_object_set_new(f, "duration_ms", json_integer((json_int_t)(last.duration_ms + 0.5)));
	event_emit(LEVEL_INFO, "reload_succeeded", f, "generation %u serving after %.0f ms",
		   g->number, last.duration_ms);
	if (old)
		release_record(&previous, old);
	t->handing_over = true;
	if (!hold_cutover(old, handed_over))
		handed_over(old ? old->number : 0);
}

/* Undoes exactly what the transaction did: its generation is drained (its
 * new sockets close with it), the old slots it took over are given back
 * (core refills them) and shared sockets were never changed. After a
 * failed deploy the `current` symlink may name the bad release: the
 * serving generation's workers stay in the directories they run in. */
static void abort_reload(struct transaction *t, const char *reason)
{
	struct generation *g = t->gen;
	model_generation_set_state(g, GEN_FAILED);
	model_set_pending(NULL);
	record(t->id, RELOAD_FAILED, g->number, t->started, reason);
	json_t *f = reload_fields(t->id);
	json_object_set_new(f, "generation", json_integer(g->number));
	json_object_set_new(f, "reason", json_string_utf8(reason));
	event_emit(LEVEL_ERROR, "reload_failed", f, "generation %u rolled back: %s", g->number,
		   reason);
	steer_back();
	worker_drain_generation(g);
	for (size_t i = 0; model->serving && i < model->serving->nprograms; i++) {
		struct program_run *p = &model->serving->programs[i];
		if (p->directory)
			model_program_set_directory(p, p->directory, true);
	}
	finish();
}

/* --- beginning: the plan ------------------------------------------------- */

static char *join_lines(const char *text)
{
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	char *out = xcalloc(1, len * 2 + 1), *o = out;
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
	static const char *const fmt =
	    "%s changed in the config: it takes effect when segue restarts";
	if (strcmp(old->control, c->control) != 0 || old->control_mode != c->control_mode ||
	    strcmp(old->control_group, c->control_group) != 0)
		warn(fmt, "control");
	if (strcmp(old->pidfile, c->pidfile) != 0)
		warn(fmt, "pidfile");
	if (old->log_format != c->log_format || strcmp(old->log_file, c->log_file) != 0)
		warn(fmt, "log-format or log-file");
}

/* Reads the config again; in quick mode there is no file and the running
 * config serves again (a restart of the app onto new code). NULL with the
 * problems, joined by "; ", in *why (malloc'd). */
static struct config *load_config(char **why)
{
	if (!config_file)
		return config_ref(model->config);
	char *text = NULL;
	size_t len = 0;
	FILE *errors = open_memstream(&text, &len);
	if (!errors)
		abort();
	struct config *c = config_load(config_file, defaults, errors);
	if (fclose(errors) != 0)
		abort();
	if (c)
		warn_start_only(model->config, c);
	else
		*why = join_lines(text);
	free(text);
	return c;
}

/* Holds every socket of c for the new generation; changes to shared ones
 * are planned, not made. Returns the sockets, or NULL with err. */
static struct held_socket **plan_sockets(struct transaction *t, struct config *c, char *err,
					 size_t len)
{
	struct held_socket **held = xcalloc(c->nsockets + 1, sizeof(*held));
	t->changes = xcalloc(c->nsockets + 1, sizeof(*t->changes));
	for (size_t i = 0; i < c->nsockets; i++) {
		const struct socket_conf *s = &c->sockets[i];
		char why[256];
		held[i] = hold_socket(s, c->fdstore, 0, why, sizeof(why));
		if (!held[i]) {
			snprintf(err, len, "socket %s (%s): %s", s->name, s->listen, why);
			while (i-- > 0)
				hold_release(held[i]);
			free(held);
			return NULL;
		}
		/* held before (a new steered socket has the new config's) */
		if (held[i]->refs > 1 && hold_differs(held[i], s))
			t->changes[t->nchanges++] = (struct socket_change){held[i], s};
	}
	return held;
}

/* Workers per program: the new config's, unless it did not change the
 * program's `workers` and an operator scaled it since (TTIN/TTOU, scale). */
static int desired_workers(const struct program_run *p)
{
	const struct program_run *old = model_program(model->serving, p->conf->name);
	if (old && old->conf->workers == p->conf->workers)
		return old->desired;
	return p->conf->workers;
}

static void start_generation(struct transaction *t, struct config *c, struct held_socket **held,
			     const struct release *from)
{
	struct generation *g = model_generation_new(c, held);
	t->gen = g;
	t->next_slot = xcalloc(g->nprograms + 1, sizeof(int));
	t->ntaken = xcalloc(g->nprograms + 1, sizeof(int));
	t->taken = xcalloc(g->nprograms + 1, sizeof(bool *));
	if (from)
		pin_directories(g, from);
	for (size_t i = 0; i < g->nprograms; i++)
		model_program_set_desired(&g->programs[i], desired_workers(&g->programs[i]));
	model_set_pending(g);
}

/* A reload that ends before it started a generation: nothing changed.
 * Its event carries key = value and says msg. */
static void end_unstarted(struct transaction *t, enum reload_outcome outcome, const char *reason,
			  const char *event, const char *key, const char *value, const char *msg)
{
	record(t->id, outcome, 0, t->started, reason);
	json_t *f = reload_fields(t->id);
	json_object_set_new(f, key, json_string_utf8(value));
	event_emit(LEVEL_ERROR, event, f, "%s", msg);
	finish();
}

static void begin(void)
{
	struct transaction *t = xcalloc(1, sizeof(*t));
	t->id = ++seq;
	t->started = now_mono();
	t->rollback = rollback_next;
	rollback_next = false;
	running = t;
	event_emit(LEVEL_INFO, "reload_started",
		   json_pack("{s:I, s:b}", "reload", (json_int_t)t->id, "rollback", t->rollback),
		   "%s",
		   t->rollback ? "rolling back to the previous release" : "reading the config");
	char *why = NULL, err[512];
	struct config *c = t->rollback ? config_ref(previous.config) : load_config(&why);
	if (!c) {
		snprintf(err, sizeof(err), "config rejected: %s", why);
		end_unstarted(t, RELOAD_REJECTED, err, "config_rejected", "file", config_file, why);
		free(why);
		return;
	}
	struct held_socket **held = plan_sockets(t, c, err, sizeof(err));
	if (held)
		start_generation(t, c, held, t->rollback ? &previous : NULL);
	config_unref(c); /* the generation holds its own reference */
	if (!held)
		end_unstarted(t, RELOAD_FAILED, err, "reload_failed", "reason", err, err);
}

/* --- driving the running reload ------------------------------------------ */

/* A new worker that failed (exit, timeout, cannot start, STOPPING=1)
 * fails the reload: the reason its slot recorded, or NULL. */
static const char *failure(const struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++)
		for (int j = 0; j < g->programs[i].nslots; j++)
			if (g->programs[i].slots[j]->failures > 0)
				return g->programs[i].slots[j]->failure;
	return NULL;
}

static void start_all(struct program_run *p)
{
	for (int i = 0; i < p->desired && worker_can_spawn(); i++)
		if (p->slots[i]->spawns == 0)
			worker_spawn(p, i);
}

static void take_over(struct transaction *t, struct program_run *p, struct program_run *old,
		      int slot)
{
	if (!t->taken[p->index])
		t->taken[p->index] = xcalloc(MODEL_MAX_WORKERS, sizeof(bool));
	t->taken[p->index][slot] = true;
	t->ntaken[p->index]++;
	if (slot < old->nslots && old->slots[slot]->worker)
		worker_event(old->slots[slot]->worker, WEV_DRAIN);
}

static void roll(struct transaction *t, struct program_run *p, struct program_run *old)
{
	int n = p->desired, drain[n + 1], start = 0;
	bool ready[n + 1], starting[n + 1], none[n + 1];
	memset(none, 0, sizeof(none));
	for (int i = 0; i < n; i++) {
		const struct worker *w = p->slots[i]->worker;
		ready[i] = w && w->state == WORKER_READY;
		starting[i] = w && w->state == WORKER_STARTING;
	}
	struct rolling_view v = {
	    n,	   p->conf->max_surge, t->next_slot[p->index],
	    ready, starting,	       t->taken[p->index] ? t->taken[p->index] : none};
	if (v.next_slot > n) /* scaled down since */
		v.next_slot = n;
	int ndrain = rolling_next(&v, drain, &start);
	for (int i = 0; i < ndrain; i++)
		take_over(t, p, old, drain[i]);
	for (; start > 0 && worker_can_spawn(); start--)
		worker_spawn(p, t->next_slot[p->index]++);
}

void reload_settle(void)
{
	struct transaction *t = running;
	if (!t || !t->gen || t->handing_over)
		return;
	const char *why = failure(t->gen);
	if (why) {
		abort_reload(t, why);
		return;
	}
	for (size_t i = 0; i < t->gen->nprograms; i++) {
		struct program_run *p = &t->gen->programs[i];
		struct program_run *old = model_program(model->serving, p->conf->name);
		if (p->conf->reload == RELOAD_ROLLING && old)
			roll(t, p, old);
		else
			start_all(p);
	}
	if (model_generation_ready(t->gen))
		commit(t);
}

unsigned reload_request(const char *source)
{
	unsigned id = seq + 1; /* the one that begins now, or the queued one */
	enum reload_action a = reload_step(&machine, RELOAD_REQUEST);
	static const char *const what[] = {
	    [RELOAD_NOTHING] = "",
	    [RELOAD_BEGIN] = "starting a new generation",
	    [RELOAD_QUEUED] = "queued after the running reload",
	    [RELOAD_IGNORED] = "coalesced with the queued reload",
	};
	if (machine.phase == RELOAD_STOPPED)
		return 0;
	json_t *f = json_pack("{s:s, s:I}", "source", source, "reload", (json_int_t)id);
	event_emit(LEVEL_INFO, "reload_requested", f, "%s", what[a]);
	if (a == RELOAD_BEGIN)
		begin();
	return id;
}

unsigned reload_rollback(const char *source, char *err, size_t len)
{
	if (!previous.config) {
		snprintf(err, len, "no previous generation to roll back to");
		return 0;
	}
	if (machine.phase != RELOAD_IDLE) {
		snprintf(err, len,
			 machine.phase == RELOAD_STOPPED
			     ? "segue is stopping"
			     : "a reload is running: try again when it ends");
		return 0;
	}
	rollback_next = true;
	return reload_request(source);
}

void reload_stop(void)
{
	struct transaction *t = running;
	reload_step(&machine, RELOAD_STOP);
	if (t && t->handing_over) {
		steer_cancel();
		finish();
	} else if (t && t->gen) {
		abort_reload(t, "segue is stopping");
	}
}

bool reload_running(void)
{
	return machine.phase == RELOAD_RUNNING;
}

bool reload_holds_slot(const struct program_run *old, int slot)
{
	const struct transaction *t = running && !running->handing_over ? running : NULL;
	/* taken[] is indexed by the new generation's programs: match by name */
	const struct program_run *p = t && t->gen ? model_program(t->gen, old->conf->name) : NULL;
	return p && t->taken[p->index] && slot >= 0 && slot < MODEL_MAX_WORKERS &&
	       t->taken[p->index][slot];
}

const struct reload_result *reload_last_result(void)
{
	return last.id ? &last : NULL;
}

void reload_forget(void)
{
	release_clear(&previous);
	if (running)
		transaction_free(running);
	running = NULL;
}

/* --- across an upgrade in place ------------------------------------------ */

json_t *reload_save(void)
{
	json_t *names = json_array(), *dirs = json_array();
	for (size_t i = 0; i < previous.n; i++) {
		json_array_append_new(names, json_string(previous.names[i]));
		json_array_append_new(dirs, previous.dirs[i] ? json_string(previous.dirs[i])
							     : json_null());
	}
	return json_pack("{s:I, s:{s:o, s:o, s:o}, s:{s:I, s:i, s:I, s:s, s:s, s:f}}", "seq",
			 (json_int_t)seq, "previous", "config", state_config_id(previous.config),
			 "names", names, "dirs", dirs, "last", "id", (json_int_t)last.id, "outcome",
			 (int)last.outcome, "generation", (json_int_t)last.generation, "release",
			 last.release, "reason", last.reason, "duration_ms", last.duration_ms);
}

static void previous_restore(json_t *p)
{
	json_t *names = json_object_get(p, "names"), *dirs = json_object_get(p, "dirs");
	struct config *c = state_config(json_object_get(p, "config"));
	if (!c)
		return;
	previous.config = config_ref(c);
	previous.n = json_array_size(names);
	previous.names = xcalloc(previous.n + 1, sizeof(char *));
	previous.dirs = xcalloc(previous.n + 1, sizeof(char *));
	for (size_t i = 0; i < previous.n; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		const char *dir = json_string_value(json_array_get(dirs, i));
		previous.names[i] = xstrdup(name ? name : "");
		previous.dirs[i] = dir ? xstrdup(dir) : NULL;
	}
}

int reload_restore(json_t *j, char *err, size_t len)
{
	json_t *l = json_object_get(j, "last");
	if (running || machine.phase != RELOAD_IDLE) {
		snprintf(err, len, "state: a reload is under way");
		return -1;
	}
	seq = (unsigned)json_integer_value(json_object_get(j, "seq"));
	previous_restore(json_object_get(j, "previous"));
	last.id = (unsigned)json_integer_value(json_object_get(l, "id"));
	last.outcome = (enum reload_outcome)json_integer_value(json_object_get(l, "outcome"));
	last.generation = (unsigned)json_integer_value(json_object_get(l, "generation"));
	last.duration_ms = json_number_value(json_object_get(l, "duration_ms"));
	snprintf(last.release, sizeof(last.release), "%s",
		 json_string_value(json_object_get(l, "release")) ?: "");
	snprintf(last.reason, sizeof(last.reason), "%s",
		 json_string_value(json_object_get(l, "reason")) ?: "");
	return 0;
}
