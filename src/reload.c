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

#include <ev.h>
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

int canary_size(const struct program_conf *c, int desired)
{
	long n = c->canary_percent ? ((long)desired * c->canary_percent + 99) / 100 : c->canary;
	return n > desired ? desired : (int)n;
}

/* --- the impure part: one transaction at a time -------------------------- */

/* A reload whose programs have a canary first runs those workers beside
 * the whole serving generation, holds them, and only then goes on. */
enum canary_phase { CANARY_NONE, CANARY_STARTING, CANARY_HOLDING, CANARY_PASSED };

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
	/* canary: per program of gen, its canary workers (0: none), and
	 * whether canary_started went out */
	enum canary_phase phase;
	int *canary;
	bool *announced;
	double hold_until; /* monotonic, while holding */
	ev_timer hold;
	bool handing_over; /* committed; the old generation drains once the
			      steered sockets are quiet (steer.h) */
};

/* The release that served before the last deploy: its config and the
 * directories its programs were resolved to, for `rollback`. */
struct release {
	char name[256]; /* the generation's release */
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
static struct reload_result last_ok; /* the newest that succeeded */
static const char *config_file;
static const struct config_defaults *defaults;
static void (*changed)(void);

void reload_init(const char *file, const struct config_defaults *defs, void (*changed_fn)(void))
{
	config_file = file;
	defaults = defs;
	changed = changed_fn;
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
	model_generation_release(g, r->name, sizeof(r->name));
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

/* The fields of an event about generation g: its number and release. */
static json_t *generation_fields(json_t *f, const struct generation *g)
{
	char release[256];
	model_generation_release(g, release, sizeof(release));
	json_object_set_new(f, "generation", json_integer(g->number));
	if (*release)
		json_object_set_new(f, "release", json_string_utf8(release));
	return f;
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
	free(t->canary);
	free(t->announced);
	free(t->changes);
	ev_timer_stop(EV_DEFAULT, &t->hold);
	free(t);
}

/* Records how reload `id` ended, before its event goes out: whoever
 * waits for it reads the record. */
static void record(const struct transaction *t, enum reload_outcome outcome,
		   const struct generation *g, const char *reason)
{
	memset(&last, 0, sizeof(last));
	last.id = t->id;
	last.outcome = outcome;
	last.rollback = t->rollback;
	last.generation = g ? g->number : 0;
	if (g)
		model_generation_release(g, last.release, sizeof(last.release));
	last.duration_ms = (now_mono() - t->started) * 1000.0;
	snprintf(last.reason, sizeof(last.reason), "%s", reason ? reason : "");
	struct counters *k = model_counters();
	if (outcome == RELOAD_SUCCEEDED) {
		last_ok = last;
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
	json_t *f = generation_fields(json_pack("{s:I}", "workers", (json_int_t)old->live), old);
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
	record(t, RELOAD_SUCCEEDED, g, NULL);
	json_t *f = generation_fields(reload_fields(t->id), g);
	json_object_set_new(f, "duration_ms", json_integer((json_int_t)(last.duration_ms + 0.5)));
	json_object_set_new(f, "rollback", json_boolean(t->rollback));
	event_emit(LEVEL_INFO, "reload_succeeded", f, "generation %u serving%s%s after %.0f ms",
		   g->number, *last.release ? " release " : "", last.release, last.duration_ms);
	if (old)
		release_record(&previous, old);
	t->handing_over = true;
	if (!hold_cutover(old, handed_over))
		handed_over(old ? old->number : 0);
}

/* A failed weighted canary's generation drains once the connections that
 * reached its sockets are accepted (steer_back_from). */
static void drain_failed(unsigned number)
{
	for (const struct generation *g = model->generations; g; g = g->next)
		if (g->number == number)
			worker_drain_generation(g);
}

/* Undoes exactly what the transaction did: its generation is drained (its
 * new sockets close with it), the old slots it took over are given back
 * (core refills them) and shared sockets were never changed. After a
 * failed deploy the `current` symlink may name the bad release: the
 * serving generation's workers stay in the directories they run in. */
static void abort_reload(struct transaction *t, const char *reason,
			 const struct program_run *failed)
{
	struct generation *g = t->gen;
	model_generation_set_state(g, GEN_FAILED);
	model_set_pending(NULL);
	record(t, RELOAD_FAILED, g, reason);
	json_t *f = generation_fields(reload_fields(t->id), g);
	if (failed) /* the program whose worker failed, for those who select by it */
		json_object_set_new(f, "program", json_string(failed->conf->name));
	json_object_set_new(f, "reason", json_string_utf8(reason));
	event_emit(LEVEL_ERROR, "reload_failed", f, "generation %u rolled back: %s", g->number,
		   reason);
	if (!steer_back_from(g, drain_failed))
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

/* libev may run a timer a little before now_mono() reaches the time it
 * was armed for: the rest is waited for, so a hold always ends. */
static void hold_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	const struct transaction *t = w->data;
	double left = t->hold_until - now_mono();
	if (left > 0) {
		ev_timer_set(w, left, 0);
		ev_timer_start(loop, w);
		return;
	}
	changed();
}

/* A deploy, not a rollback, of programs that run now: those with a canary
 * start it first. The rollback of a bad release does not wait. */
static void plan_canary(struct transaction *t)
{
	struct generation *g = t->gen;
	t->canary = xcalloc(g->nprograms + 1, sizeof(int));
	t->announced = xcalloc(g->nprograms + 1, sizeof(bool));
	ev_init(&t->hold, hold_cb);
	t->hold.data = t;
	for (size_t i = 0; i < g->nprograms && !t->rollback; i++) {
		struct program_run *p = &g->programs[i];
		if (!model_program(model->serving, p->conf->name))
			continue;
		t->canary[i] = canary_size(p->conf, p->desired);
		if (t->canary[i] > 0)
			t->phase = CANARY_STARTING;
	}
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
	plan_canary(t);
}

/* A reload that ends before it started a generation: nothing changed.
 * Its event carries key = value and says msg. */
static void end_unstarted(struct transaction *t, enum reload_outcome outcome, const char *reason,
			  const char *event, const char *key, const char *value, const char *msg)
{
	record(t, outcome, NULL, reason);
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
	json_t *f = json_pack("{s:I, s:b}", "reload", (json_int_t)t->id, "rollback", t->rollback);
	if (t->rollback && *previous.name)
		json_object_set_new(f, "release", json_string_utf8(previous.name));
	event_emit(LEVEL_INFO, "reload_started", f, "%s%s",
		   t->rollback ? "rolling back to the previous release " : "reading the config",
		   t->rollback ? previous.name : "");
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
 * fails the reload: its slot (which says why), or NULL. */
static const struct slot *failed_slot(const struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++)
		for (int j = 0; j < g->programs[i].nslots; j++)
			if (g->programs[i].slots[j]->failures > 0)
				return g->programs[i].slots[j];
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

/* --- the canary phase ----------------------------------------------------- */

static json_t *canary_fields(const struct transaction *t, const struct program_run *p)
{
	json_t *f = generation_fields(reload_fields(t->id), p->gen);
	json_object_set_new(f, "program", json_string(p->conf->name));
	if (p->release && *p->release)
		json_object_set_new(f, "release", json_string_utf8(p->release));
	return f;
}

/* p's canary workers: fewer if it was scaled down since. */
static int canary_of(const struct transaction *t, const struct program_run *p)
{
	return t->canary[p->index] < p->desired ? t->canary[p->index] : p->desired;
}

static bool canary_ready(const struct transaction *t, const struct program_run *p)
{
	for (int i = 0; i < canary_of(t, p); i++) {
		const struct worker *w = p->slots[i]->worker;
		if (!w || w->state != WORKER_READY)
			return false;
	}
	return true;
}

/* Starts the canary workers; canary_started once a program's are all
 * started (its release is known then). True when all are ready. */
static bool canary_start(struct transaction *t)
{
	bool ready = true;
	for (size_t i = 0; i < t->gen->nprograms; i++) {
		struct program_run *p = &t->gen->programs[i];
		int n = canary_of(t, p);
		for (int j = 0; j < n && worker_can_spawn(); j++)
			if (p->slots[j]->spawns == 0)
				worker_spawn(p, j);
		if (t->next_slot[i] < n)
			t->next_slot[i] = n; /* a rolling reload goes on from there */
		if (n && !t->announced[i] && p->slots[n - 1]->spawns > 0) {
			t->announced[i] = true;
			json_t *f = canary_fields(t, p);
			json_object_set_new(f, "workers", json_integer(n));
			json_object_set_new(f, "hold_s", json_real(p->conf->canary_hold));
			if (p->conf->canary_weight) /* its share of new connections */
				json_object_set_new(f, "weight",
						    json_integer(p->conf->canary_weight));
			event_emit(LEVEL_INFO, "canary_started", f,
				   "%d new worker%s of release %s beside generation %u", n,
				   n == 1 ? "" : "s", p->release, model->serving->number);
		}
		ready = ready && canary_ready(t, p);
	}
	return ready;
}

static void canary_hold(struct transaction *t)
{
	double hold = 0;
	for (size_t i = 0; i < t->gen->nprograms; i++)
		if (t->canary[i] && t->gen->programs[i].conf->canary_hold > hold)
			hold = t->gen->programs[i].conf->canary_hold;
	t->phase = CANARY_HOLDING;
	t->hold_until = now_mono() + hold;
	ev_timer_set(&t->hold, hold, 0);
	ev_timer_start(EV_DEFAULT, &t->hold);
	steer_weigh(t->gen, true); /* canary-weight: its share of connections */
}

/* The check of a held canary program: NULL while it may pass, "" when it
 * passed, else why it failed (in buf). */
static const char *canary_check(const struct program_run *p, char *buf, size_t len)
{
	const struct program_conf *c = p->conf;
	if (!*c->check)
		return "";
	if (p->check.failures >= (unsigned)c->check_failures) {
		snprintf(buf, len, "%u check%s in a row failed: %s", p->check.failures,
			 p->check.failures == 1 ? "" : "s", p->check.text);
		return buf;
	}
	return p->check.runs > 0 && p->check.ok ? "" : NULL;
}

static void canary_fail(struct transaction *t, const struct program_run *p, const char *why)
{
	char reason[512];
	json_t *f = canary_fields(t, p);
	json_object_set_new(f, "reason", json_string_utf8(why));
	event_emit(LEVEL_ERROR, "canary_failed", f, "release %s canary failed: %s", p->release,
		   why);
	snprintf(reason, sizeof(reason), "canary failed: %s", why);
	abort_reload(t, reason, p);
}

/* Drives the canary phase; true while it goes on (or it failed). */
static bool canary_settle(struct transaction *t)
{
	if (t->phase == CANARY_STARTING && canary_start(t))
		canary_hold(t);
	if (t->phase != CANARY_HOLDING)
		return t->phase == CANARY_STARTING;
	bool judged = false, checks_passed = true;
	char buf[512];
	for (size_t i = 0; i < t->gen->nprograms; i++) {
		const struct program_run *p = &t->gen->programs[i];
		if (!canary_of(t, p))
			continue;
		const char *verdict = canary_check(p, buf, sizeof(buf));
		if (verdict && *verdict) {
			canary_fail(t, p, verdict);
			return true;
		}
		judged = true;
		checks_passed = checks_passed && verdict;
	}
	/* A canary scaled to 0 during its hold has nothing left to judge:
	 * the deploy goes on at once rather than waiting out the hold. */
	if (judged && !(checks_passed && now_mono() >= t->hold_until))
		return true;
	t->phase = CANARY_PASSED;
	ev_timer_stop(EV_DEFAULT, &t->hold);
	for (size_t i = 0; i < t->gen->nprograms; i++)
		if (t->canary[i])
			event_emit(LEVEL_INFO, "canary_passed",
				   canary_fields(t, &t->gen->programs[i]),
				   "release %s canary passed", t->gen->programs[i].release);
	return false;
}

/* A failed new worker; during the canary, the canary failed. */
static void fail_reload(struct transaction *t, const struct slot *s)
{
	if (t->phase == CANARY_STARTING || t->phase == CANARY_HOLDING)
		canary_fail(t, s->prog, s->failure);
	else
		abort_reload(t, s->failure, s->prog);
}

void reload_settle(void)
{
	struct transaction *t = running;
	if (!t || !t->gen || t->handing_over)
		return;
	const struct slot *failed = failed_slot(t->gen);
	if (failed) {
		fail_reload(t, failed);
		return;
	}
	if (canary_settle(t))
		return;
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

bool reload_can_roll_back(char *err, size_t len)
{
	if (!previous.config) {
		snprintf(err, len, "no previous generation to roll back to");
		return false;
	}
	if (machine.phase != RELOAD_IDLE) {
		snprintf(err, len,
			 machine.phase == RELOAD_STOPPED
			     ? "segue is stopping"
			     : "a reload is running: try again when it ends");
		return false;
	}
	return true;
}

unsigned reload_rollback(const char *source, char *err, size_t len)
{
	if (!reload_can_roll_back(err, len))
		return 0;
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
		abort_reload(t, "segue is stopping", NULL);
	}
}

bool reload_running(void)
{
	return machine.phase == RELOAD_RUNNING;
}

unsigned reload_running_id(void)
{
	return machine.phase == RELOAD_RUNNING && running ? running->id : 0;
}

bool reload_holding(void)
{
	return running && running->gen && running->phase == CANARY_HOLDING;
}

bool reload_holds_slot(const struct program_run *old, int slot)
{
	const struct transaction *t = running && !running->handing_over ? running : NULL;
	/* taken[] is indexed by the new generation's programs: match by name */
	const struct program_run *p = t && t->gen ? model_program(t->gen, old->conf->name) : NULL;
	return p && t->taken[p->index] && slot >= 0 && slot < MODEL_MAX_WORKERS &&
	       t->taken[p->index][slot];
}

const char *reload_phase(double *left)
{
	const struct transaction *t = running;
	*left = 0;
	if (!t)
		return NULL;
	if (t->phase == CANARY_HOLDING) {
		*left = t->hold_until - now_mono();
		*left = *left > 0 ? *left : 0;
		return "canary-hold";
	}
	if (t->phase == CANARY_STARTING)
		return "canary";
	if (t->handing_over)
		return "handover";
	return t->phase == CANARY_PASSED ? "cut-over" : "starting";
}

bool reload_judges(const struct program_run *p)
{
	const struct transaction *t = running;
	return t && t->gen == p->gen && t->phase == CANARY_HOLDING && canary_of(t, p) > 0;
}

const char *reload_previous_release(void)
{
	return previous.name;
}

const struct reload_result *reload_last_result(void)
{
	return last.id ? &last : NULL;
}

const struct reload_result *reload_last_success(void)
{
	return last_ok.id ? &last_ok : NULL;
}

void reload_forget(void)
{
	release_clear(&previous);
	if (running)
		transaction_free(running);
	running = NULL;
}

/* --- across an upgrade in place ------------------------------------------ */

static json_t *ints(const int *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* A reload that holds its canary: everything but its generation (the
 * model's pending one) and its timer's time. */
static json_t *running_save(const struct transaction *t)
{
	size_t n = t->gen->nprograms;
	json_t *changes = json_array();
	for (size_t i = 0; i < t->nchanges; i++)
		json_array_append_new(
		    changes, json_pack("{s:i, s:i}", "held", model_socket_index(t->changes[i].held),
				       "to", (int)(t->changes[i].to - t->gen->config->sockets)));
	int announced[n + 1];
	for (size_t i = 0; i < n; i++)
		announced[i] = t->announced[i];
	return json_pack("{s:I, s:f, s:f, s:b, s:o, s:o, s:o, s:o}", "id", (json_int_t)t->id,
			 "started", t->started, "hold_until", t->hold_until, "queued",
			 machine.queued, "next_slot", ints(t->next_slot, n), "canary",
			 ints(t->canary, n), "announced", ints(announced, n), "changes", changes);
}

json_t *reload_save(void)
{
	json_t *names = json_array(), *dirs = json_array();
	for (size_t i = 0; i < previous.n; i++) {
		json_array_append_new(names, json_string(previous.names[i]));
		json_array_append_new(dirs, previous.dirs[i] ? json_string(previous.dirs[i])
							     : json_null());
	}
	json_t *j =
	    json_pack("{s:I, s:{s:o, s:o, s:o}, s:{s:I, s:i, s:I, s:o, s:o, s:f, s:b}}", "seq",
		      (json_int_t)seq, "previous", "config", state_config_id(previous.config),
		      "names", names, "dirs", dirs, "last", "id", (json_int_t)last.id, "outcome",
		      (int)last.outcome, "generation", (json_int_t)last.generation, "release",
		      json_string_utf8(last.release), "reason", json_string_utf8(last.reason),
		      "duration_ms", last.duration_ms, "rollback", last.rollback);
	if (reload_holding())
		json_object_set_new(j, "running", running_save(running));
	return j;
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

static void ints_restore(json_t *a, int *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (int)json_integer_value(json_array_get(a, i));
}

/* Takes the held canary on where the previous image left it. */
static int running_restore(json_t *r, char *err, size_t len)
{
	struct generation *g = model->pending;
	if (!g) {
		snprintf(err, len,
			 "state: a reload holds its canary, but no generation is pending");
		return -1;
	}
	struct transaction *t = xcalloc(1, sizeof(*t));
	t->id = (unsigned)json_integer_value(json_object_get(r, "id"));
	t->started = json_number_value(json_object_get(r, "started"));
	t->gen = g;
	size_t n = g->nprograms;
	t->next_slot = xcalloc(n + 1, sizeof(int));
	t->ntaken = xcalloc(n + 1, sizeof(int));
	t->taken = xcalloc(n + 1, sizeof(bool *));
	plan_canary(t);
	int announced[n + 1];
	ints_restore(json_object_get(r, "next_slot"), t->next_slot, n);
	ints_restore(json_object_get(r, "canary"), t->canary, n);
	ints_restore(json_object_get(r, "announced"), announced, n);
	for (size_t i = 0; i < n; i++)
		t->announced[i] = announced[i];
	json_t *changes = json_object_get(r, "changes");
	t->changes = xcalloc(json_array_size(changes) + 1, sizeof(*t->changes));
	for (size_t i = 0; i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		struct held_socket *h =
		    model_socket_at((int)json_integer_value(json_object_get(c, "held")));
		size_t to = (size_t)json_integer_value(json_object_get(c, "to"));
		if (h && to < g->config->nsockets)
			t->changes[t->nchanges++] =
			    (struct socket_change){h, &g->config->sockets[to]};
	}
	t->phase = CANARY_HOLDING;
	t->hold_until = json_number_value(json_object_get(r, "hold_until"));
	double left = t->hold_until - now_mono();
	ev_timer_set(&t->hold, left > 0 ? left : 0, 0);
	ev_timer_start(EV_DEFAULT, &t->hold);
	steer_weigh(g, false); /* still attached: this image learns it */
	machine.phase = RELOAD_RUNNING;
	machine.queued = json_is_true(json_object_get(r, "queued"));
	running = t;
	return 0;
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
	last.rollback = json_is_true(json_object_get(l, "rollback"));
	if (last.outcome == RELOAD_SUCCEEDED)
		last_ok = last;
	json_t *r = json_object_get(j, "running");
	return r ? running_restore(r, err, len) : 0;
}
