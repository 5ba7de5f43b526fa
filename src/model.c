/* model.c: the one state model: creates, links, changes and frees held
 * sockets, generations, slots and workers. No I/O and no processes. */
/* SPDX-License-Identifier: MIT */
#include "model.h"
#include "state.h"
#include "utf8.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct model m;
const struct model *const model = &m;

void model_init(double wall, double mono)
{
	m.started_wall = wall;
	m.started_mono = mono;
}

/* --- sockets ------------------------------------------------------------- */

struct held_socket *model_socket_find(const struct address *a)
{
	for (struct held_socket *h = m.sockets; h; h = h->next)
		if (address_equal(&h->conf.addr, a))
			return h;
	return NULL;
}

struct held_socket *model_socket_add(const struct socket_conf *conf, int fd, bool stored)
{
	struct held_socket *h = xcalloc(1, sizeof(*h));
	h->conf = *conf;
	h->conf.name = xstrdup(conf->name);
	h->conf.listen = xstrdup(conf->listen);
	h->conf.owner = xstrdup(conf->owner ? conf->owner : "");
	h->conf.group = xstrdup(conf->group ? conf->group : "");
	h->fd = fd;
	h->refs = 1;
	h->stored = stored;
	h->group_index = -1;
	h->next = m.sockets;
	m.sockets = h;
	return h;
}

void model_socket_rename(struct held_socket *h, const char *name)
{
	free(h->conf.name);
	h->conf.name = xstrdup(name);
}

void model_socket_set_backlog(struct held_socket *h, int backlog)
{
	h->conf.backlog = backlog;
}

void model_socket_set_group_index(struct held_socket *h, int index)
{
	h->group_index = index;
}

void model_socket_set_stored(struct held_socket *h, bool stored)
{
	h->stored = stored;
}

void model_socket_ref(struct held_socket *h)
{
	h->refs++;
}

bool model_socket_unref(struct held_socket *h)
{
	return --h->refs == 0;
}

void model_socket_free(struct held_socket *h)
{
	for (struct held_socket **pp = &m.sockets; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	free(h->conf.name);
	free(h->conf.listen);
	free(h->conf.owner);
	free(h->conf.group);
	free(h);
}

/* --- generations --------------------------------------------------------- */

struct generation *model_generation_new(struct config *config, struct held_socket **sockets)
{
	m.version++;
	struct generation *g = xcalloc(1, sizeof(*g));
	g->config = config_ref(config);
	g->sockets = sockets;
	g->number = ++m.last_generation;
	g->state = GEN_STARTING;
	g->nprograms = config->nprograms;
	g->programs = xcalloc(g->nprograms ? g->nprograms : 1, sizeof(*g->programs));
	for (size_t i = 0; i < g->nprograms; i++) {
		g->programs[i].gen = g;
		g->programs[i].conf = &config->programs[i];
		g->programs[i].index = i;
		g->programs[i].release = model_release_name(&config->programs[i], NULL);
	}
	g->next = m.generations;
	m.generations = g;
	return g;
}

void model_generation_set_state(struct generation *g, enum generation_state s)
{
	m.version++;
	g->state = s;
}

void model_set_serving(struct generation *g)
{
	m.version++;
	m.serving = g;
}

void model_set_pending(struct generation *g)
{
	m.version++;
	m.pending = g;
}

void model_generation_free(struct generation *g, void (*release)(struct held_socket *))
{
	m.version++;
	for (struct generation **pp = &m.generations; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		for (int j = 0; j < p->nslots; j++)
			free(p->slots[j]);
		free(p->slots);
		free(p->directory);
		free(p->release);
	}
	for (size_t i = 0; i < g->config->nsockets; i++)
		release(g->sockets[i]);
	free(g->sockets);
	free(g->programs);
	config_unref(g->config);
	free(g);
}

struct program_run *model_program(const struct generation *g, const char *name)
{
	for (size_t i = 0; g && i < g->nprograms; i++)
		if (strcmp(g->programs[i].conf->name, name) == 0)
			return &g->programs[i];
	return NULL;
}

char *model_release_name(const struct program_conf *c, const char *dir)
{
	const char *slash = dir ? strrchr(dir, '/') : NULL;
	const char *base = slash && slash[1] ? slash + 1 : dir ? dir : "";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		abort();
	static const char key[] = "{directory}";
	for (const char *r = *c->release ? c->release : key; *r;)
		if (strncmp(r, key, sizeof(key) - 1) == 0) {
			fputs(base, f);
			r += sizeof(key) - 1;
		} else {
			fputc(*r++, f);
		}
	if (fclose(f) != 0)
		abort();
	/* A directory's name is anybody's text: the release goes into JSON,
	 * logs and environments as one line of valid UTF-8. */
	for (char *o = out; *o; o++)
		if ((unsigned char)*o < 0x20 || *o == 0x7f)
			*o = '?';
	char clean[256];
	utf8_clean(clean, sizeof(clean), out, strlen(out));
	free(out);
	return xstrdup(clean);
}

void model_program_set_directory(struct program_run *p, const char *dir, bool pinned)
{
	if (dir != p->directory) {
		free(p->directory);
		p->directory = dir ? xstrdup(dir) : NULL;
	}
	p->pinned = pinned;
	char *release = model_release_name(p->conf, p->directory);
	if (!p->release || strcmp(release, p->release) != 0)
		m.version++;
	free(p->release);
	p->release = release;
}

void model_generation_release(const struct generation *g, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < g->nprograms; i++) {
		const char *r = g->programs[i].release;
		bool seen = !r || !*r;
		for (size_t j = 0; j < i && !seen; j++)
			seen = g->programs[j].release && strcmp(g->programs[j].release, r) == 0;
		if (seen || used >= len)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "+" : "", r);
		used += n > 0 ? (size_t)n : 0;
	}
	/* cut at len, the last name may end inside a character */
	if (used >= len) {
		char *cut = xstrdup(buf);
		utf8_clean(buf, len, cut, strlen(cut));
		free(cut);
	}
}

void model_check_result(struct program_run *p, bool ok, const char *why)
{
	m.version++;
	p->check.runs++;
	p->check.ok = ok;
	p->check.failures = ok ? 0 : p->check.failures + 1;
	snprintf(p->check.text, sizeof(p->check.text), "%s", ok ? "" : why);
}

void model_check_begin(struct program_run *p)
{
	m.version++;
	if (p->check.carried) {
		p->check.carried = false;
		return;
	}
	p->check.runs = p->check.failures = 0;
	p->check.ok = false;
	p->check.text[0] = '\0';
}

void model_check_set_io(struct program_run *p, void *io)
{
	p->check.io = io;
}

void model_program_set_desired(struct program_run *p, int desired)
{
	m.version++;
	if (desired > p->nslots) {
		p->slots = xrealloc(p->slots, (size_t)desired * sizeof(*p->slots));
		for (int i = p->nslots; i < desired; i++) {
			p->slots[i] = xcalloc(1, sizeof(struct slot));
			p->slots[i]->prog = p;
			p->slots[i]->index = i;
		}
		p->nslots = desired;
	}
	p->desired = desired;
}

int model_program_ready(const struct program_run *p)
{
	int n = 0;
	for (int i = 0; i < p->desired; i++)
		if (p->slots[i]->worker && p->slots[i]->worker->state == WORKER_READY)
			n++;
	return n;
}

bool model_generation_ready(const struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++)
		if (model_program_ready(&g->programs[i]) < g->programs[i].desired)
			return false;
	return true;
}

/* --- slots --------------------------------------------------------------- */

bool model_slot_vacate(struct slot *s, const char *failure, double ran, double now)
{
	m.version++;
	s->worker = NULL;
	if (!failure)
		return false;
	const struct program_conf *c = s->prog->conf;
	snprintf(s->failure, sizeof(s->failure), "%s", failure);
	if (ran >= MODEL_HEALTHY_RUN || s->failures == 0) {
		s->failures = 1;
		s->delay = c->restart_delay;
	} else {
		s->failures++;
		s->delay =
		    s->delay * 2 > c->restart_max_delay ? c->restart_max_delay : s->delay * 2;
	}
	s->restart_due = now + s->delay;
	if (s->failures == MODEL_CRASH_LOOP)
		m.counters.crash_loops++;
	return s->failures == MODEL_CRASH_LOOP;
}

bool model_slot_in_crash_loop(const struct slot *s)
{
	/* Over once a worker in the slot is ready again; should it crash
	 * within MODEL_HEALTHY_RUN, its failures count on from here. */
	return s->failures >= MODEL_CRASH_LOOP && !(s->worker && s->worker->state == WORKER_READY);
}

void model_slot_wait_exit(struct slot *s)
{
	m.version++;
	s->waits_exit = true;
}

void model_slot_exited(struct slot *s, double now)
{
	if (!s->waits_exit)
		return;
	m.version++;
	s->waits_exit = false;
	s->restart_due = now + s->delay;
}

void model_slot_clear_due(struct slot *s)
{
	s->restart_due = 0;
}

/* --- workers ------------------------------------------------------------- */

struct worker *model_worker_new(struct program_run *p, int slot, double now_mono, double now_wall)
{
	m.version++;
	struct slot *s = p->slots[slot];
	struct worker *w = xcalloc(1, sizeof(*w));
	w->prog = p;
	w->slot = slot;
	w->state = WORKER_STARTING;
	w->started = now_mono;
	w->since = now_wall;
	w->restarts = s->restarts;
	if (s->spawns++ > 0 && s->failures > 0) {
		s->restarts++;
		m.counters.worker_restarts++;
	}
	s->worker = w;
	s->restart_due = 0;
	w->next = m.workers;
	m.workers = w;
	m.nworkers++;
	p->gen->live++;
	return w;
}

void model_worker_set_pid(struct worker *w, pid_t pid)
{
	w->pid = pid;
}

void model_worker_set_state(struct worker *w, enum worker_state s, double deadline, double now_wall)
{
	m.version++;
	if (w->state != s)
		w->since = now_wall;
	w->state = s;
	w->deadline = deadline;
}

void model_worker_set_status(struct worker *w, const char *text)
{
	snprintf(w->status, sizeof(w->status), "%s", text);
}

void model_worker_set_io(struct worker *w, void *io)
{
	w->io = io;
}

void model_worker_free(struct worker *w)
{
	m.version++;
	struct slot *s = w->slot < w->prog->nslots ? w->prog->slots[w->slot] : NULL;
	if (s && s->worker == w)
		s->worker = NULL;
	for (struct worker **pp = &m.workers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	m.nworkers--;
	w->prog->gen->live--;
	free(w);
}

struct worker *model_worker_by_pid(pid_t pid)
{
	for (struct worker *w = m.workers; w; w = w->next)
		if (w->pid == pid && pid > 0)
			return w;
	return NULL;
}

/* --- the rest ------------------------------------------------------------ */

void model_set_config(struct config *c)
{
	if (c)
		config_ref(c);
	if (m.config)
		config_unref(m.config);
	m.config = c;
}

void model_set_stopping(void)
{
	m.stopping = true;
}

struct counters *model_counters(void)
{
	return &m.counters;
}

/* --- the model across an upgrade in place -------------------------------- */

static json_t *socket_save(const struct held_socket *h)
{
	const struct socket_conf *c = &h->conf;
	state_keep_fd(h->fd);
	return json_pack("{s:s, s:s, s:i, s:b, s:b, s:b, s:i, s:s, s:s, s:i, s:i, s:b}", "name",
			 c->name, "listen", c->listen, "backlog", c->backlog, "reuseport",
			 c->reuseport, "v6only", c->v6only, "nodelay", c->nodelay, "mode",
			 (int)c->mode, "owner", c->owner, "group", c->group, "fd", h->fd, "refs",
			 (int)h->refs, "stored", h->stored);
}

/* handover steer's place in the group travels with the socket */
static json_t *socket_save_steered(const struct held_socket *h)
{
	json_t *j = socket_save(h);
	json_object_set_new(j, "group_index", json_integer(h->group_index));
	return j;
}

static int held_index(const struct held_socket *h)
{
	int i = 0;
	for (const struct held_socket *s = m.sockets; s && s != h; s = s->next)
		i++;
	return i;
}

int model_socket_index(const struct held_socket *h)
{
	return held_index(h);
}

struct held_socket *model_socket_at(int i)
{
	struct held_socket *s = m.sockets;
	while (s && i-- > 0)
		s = s->next;
	return s;
}

static json_t *slot_save(const struct slot *s)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:f, s:b, s:s}", "spawns", (json_int_t)s->spawns,
			 "failures", (json_int_t)s->failures, "restarts", (json_int_t)s->restarts,
			 "delay", s->delay, "restart_due", s->restart_due, "waits_exit",
			 s->waits_exit, "failure", s->failure);
}

static json_t *program_save(const struct program_run *p)
{
	json_t *slots = json_array();
	for (int i = 0; i < p->nslots; i++)
		json_array_append_new(slots, slot_save(p->slots[i]));
	/* a running check's results, which the next image's check goes on from */
	json_t *check =
	    p->check.io
		? json_pack("{s:I, s:I, s:b, s:s}", "runs", (json_int_t)p->check.runs, "failures",
			    (json_int_t)p->check.failures, "ok", p->check.ok, "text", p->check.text)
		: NULL;
	return json_pack("{s:s?, s:b, s:i, s:o, s:o*}", "directory", p->directory, "pinned",
			 p->pinned, "desired", p->desired, "slots", slots, "check", check);
}

static json_t *generation_save(const struct generation *g)
{
	json_t *sockets = json_array(), *programs = json_array();
	for (size_t i = 0; i < g->config->nsockets; i++)
		json_array_append_new(sockets, json_integer(held_index(g->sockets[i])));
	for (size_t i = 0; i < g->nprograms; i++)
		json_array_append_new(programs, program_save(&g->programs[i]));
	return json_pack("{s:I, s:i, s:o, s:f, s:o, s:o}", "number", (json_int_t)g->number, "state",
			 (int)g->state, "config", state_config_id(g->config), "started", g->started,
			 "sockets", sockets, "programs", programs);
}

static json_t *model_worker_json(const struct worker *w)
{
	return json_pack("{s:I, s:I, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:s}", "generation",
			 (json_int_t)w->prog->gen->number, "program", (json_int_t)w->prog->index,
			 "slot", w->slot, "pid", (int)w->pid, "state", (int)w->state, "deadline",
			 w->deadline, "started", w->started, "since", w->since, "restarts",
			 (json_int_t)w->restarts, "status", w->status);
}

json_t *model_save(void)
{
	json_t *sockets = json_array(), *gens = json_array(), *workers = json_array();
	for (const struct held_socket *h = m.sockets; h; h = h->next)
		json_array_append_new(sockets, socket_save_steered(h));
	for (const struct generation *g = m.generations; g; g = g->next)
		json_array_append_new(gens, generation_save(g));
	for (const struct worker *w = m.workers; w; w = w->next)
		json_array_append_new(workers, model_worker_json(w));
	const struct counters *k = &m.counters;
	return json_pack(
	    "{s:f, s:f, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:{s:I, s:I, s:f, s:I, s:I}}",
	    "started_wall", m.started_wall, "started_mono", m.started_mono, "last_generation",
	    (json_int_t)m.last_generation, "config", state_config_id(m.config), "sockets", sockets,
	    "generations", gens, "workers", workers, "serving",
	    (json_int_t)(m.serving ? m.serving->number : 0), "pending",
	    (json_int_t)(m.pending ? m.pending->number : 0), "counters", "reloads_ok",
	    (json_int_t)k->reloads_ok, "reloads_failed", (json_int_t)k->reloads_failed,
	    "last_reload_seconds", k->last_reload_seconds, "worker_restarts",
	    (json_int_t)k->worker_restarts, "crash_loops", (json_int_t)k->crash_loops);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long jint(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

static double jreal(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static struct held_socket *socket_restore(json_t *j, char *err, size_t len)
{
	struct socket_conf c = {
	    .name = (char *)jstr(j, "name"),
	    .listen = (char *)jstr(j, "listen"),
	    .backlog = (int)jint(j, "backlog"),
	    .reuseport = json_is_true(json_object_get(j, "reuseport")),
	    .v6only = json_is_true(json_object_get(j, "v6only")),
	    .nodelay = json_is_true(json_object_get(j, "nodelay")),
	    .mode = (mode_t)jint(j, "mode"),
	    .owner = (char *)jstr(j, "owner"),
	    .group = (char *)jstr(j, "group"),
	};
	char why[128];
	int fd = (int)jint(j, "fd");
	if (parse_address(c.listen, &c.addr, why, sizeof(why)) < 0 || !state_kept_fd(fd)) {
		snprintf(err, len, "state: socket %s (%s): %s", c.name, c.listen,
			 state_kept_fd(fd) ? why : "its descriptor was not passed");
		return NULL;
	}
	struct held_socket *h =
	    model_socket_add(&c, fd, json_is_true(json_object_get(j, "stored")));
	h->refs = (unsigned)jint(j, "refs");
	/* an older image's state has none: not steered */
	json_t *gi = json_object_get(j, "group_index");
	json_int_t k = json_is_integer(gi) ? json_integer_value(gi) : -1;
	h->group_index = k >= 0 && k <= 65535 ? (int)k : -1;
	return h;
}

/* Held sockets, in the order saved (model_socket_add puts each first). */
static struct held_socket **sockets_restore(json_t *a, size_t *n, char *err, size_t len)
{
	*n = json_array_size(a);
	struct held_socket **all = xcalloc(*n + 1, sizeof(*all));
	for (size_t i = *n; i-- > 0;)
		if (!(all[i] = socket_restore(json_array_get(a, i), err, len))) {
			free(all);
			return NULL;
		}
	return all;
}

static void slot_restore(struct slot *s, json_t *j)
{
	s->spawns = (unsigned)jint(j, "spawns");
	s->failures = (unsigned)jint(j, "failures");
	s->restarts = (unsigned)jint(j, "restarts");
	s->delay = jreal(j, "delay");
	s->restart_due = jreal(j, "restart_due");
	s->waits_exit = json_is_true(json_object_get(j, "waits_exit"));
	snprintf(s->failure, sizeof(s->failure), "%s", jstr(j, "failure"));
}

static void program_restore(struct program_run *p, json_t *j)
{
	json_t *dir = json_object_get(j, "directory"), *slots = json_object_get(j, "slots");
	model_program_set_directory(p, json_string_value(dir),
				    json_is_true(json_object_get(j, "pinned")));
	model_program_set_desired(p, (int)json_array_size(slots));
	for (size_t i = 0; i < json_array_size(slots); i++)
		slot_restore(p->slots[i], json_array_get(slots, i));
	p->desired = (int)jint(j, "desired");
	json_t *check = json_object_get(j, "check");
	if (json_is_object(check)) { /* an older image saves none */
		p->check.runs = (unsigned)jint(check, "runs");
		p->check.failures = (unsigned)jint(check, "failures");
		p->check.ok = json_is_true(json_object_get(check, "ok"));
		snprintf(p->check.text, sizeof(p->check.text), "%s", jstr(check, "text"));
		p->check.carried = true;
	}
}

static struct generation *generation_restore(json_t *j, struct held_socket **all, size_t nall,
					     char *err, size_t len)
{
	struct config *c = state_config(json_object_get(j, "config"));
	json_t *socks = json_object_get(j, "sockets"), *progs = json_object_get(j, "programs");
	if (!c || json_array_size(socks) != c->nsockets || json_array_size(progs) != c->nprograms) {
		snprintf(err, len, "state: generation %ld does not match its config",
			 jint(j, "number"));
		return NULL;
	}
	struct held_socket **held = xcalloc(c->nsockets + 1, sizeof(*held));
	for (size_t i = 0; i < c->nsockets; i++) {
		size_t k = (size_t)json_integer_value(json_array_get(socks, i));
		if (k >= nall) {
			snprintf(err, len, "state: generation %ld names no socket %zu",
				 jint(j, "number"), k);
			free(held);
			return NULL;
		}
		held[i] = all[k];
	}
	struct generation *g = model_generation_new(c, held);
	g->number = (unsigned)jint(j, "number");
	g->state = (enum generation_state)jint(j, "state");
	g->started = jreal(j, "started");
	for (size_t i = 0; i < g->nprograms; i++)
		program_restore(&g->programs[i], json_array_get(progs, i));
	return g;
}

static struct generation *generation_numbered(unsigned number)
{
	for (struct generation *g = m.generations; g; g = g->next)
		if (g->number == number)
			return g;
	return NULL;
}

static int worker_rebuild(json_t *j, char *err, size_t len)
{
	struct generation *g = generation_numbered((unsigned)jint(j, "generation"));
	size_t prog = (size_t)jint(j, "program");
	int slot = (int)jint(j, "slot");
	if (!g || prog >= g->nprograms || slot < 0 || slot >= g->programs[prog].nslots) {
		snprintf(err, len, "state: worker %ld has no place", jint(j, "pid"));
		return -1;
	}
	struct worker *w = xcalloc(1, sizeof(*w));
	w->prog = &g->programs[prog];
	w->slot = slot;
	w->pid = (pid_t)jint(j, "pid");
	w->state = (enum worker_state)jint(j, "state");
	w->deadline = jreal(j, "deadline");
	w->started = jreal(j, "started");
	w->since = jreal(j, "since");
	w->restarts = (unsigned)jint(j, "restarts");
	snprintf(w->status, sizeof(w->status), "%s", jstr(j, "status"));
	if (w->state == WORKER_STARTING || w->state == WORKER_READY)
		w->prog->slots[slot]->worker = w;
	/* saved newest first: each goes last to keep that order */
	struct worker **tail = &m.workers;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	m.nworkers++;
	g->live++;
	return 0;
}

static void counters_restore(json_t *k)
{
	m.counters.reloads_ok = (unsigned)jint(k, "reloads_ok");
	m.counters.reloads_failed = (unsigned)jint(k, "reloads_failed");
	m.counters.last_reload_seconds = jreal(k, "last_reload_seconds");
	m.counters.worker_restarts = (unsigned)jint(k, "worker_restarts");
	m.counters.crash_loops = (unsigned)jint(k, "crash_loops");
}

int model_restore(json_t *j, char *err, size_t len)
{
	size_t nall;
	struct held_socket **all = sockets_restore(json_object_get(j, "sockets"), &nall, err, len);
	json_t *gens = json_object_get(j, "generations"), *workers = json_object_get(j, "workers");
	int r = all ? 0 : -1;
	for (size_t i = json_array_size(gens); r == 0 && i-- > 0;)
		r = generation_restore(json_array_get(gens, i), all, nall, err, len) ? 0 : -1;
	for (size_t i = 0; r == 0 && i < json_array_size(workers); i++)
		r = worker_rebuild(json_array_get(workers, i), err, len);
	free(all);
	if (r < 0)
		return -1;
	m.started_wall = jreal(j, "started_wall");
	m.started_mono = jreal(j, "started_mono");
	m.last_generation = (unsigned)jint(j, "last_generation");
	m.serving = generation_numbered((unsigned)jint(j, "serving"));
	m.pending = generation_numbered((unsigned)jint(j, "pending"));
	model_set_config(state_config(json_object_get(j, "config")));
	counters_restore(json_object_get(j, "counters"));
	m.version++;
	return 0;
}
