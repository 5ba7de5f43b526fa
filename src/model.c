/* model.c: the one state model: creates, links, changes and frees held
 * sockets, generations, slots and workers. No I/O and no processes. */
/* SPDX-License-Identifier: MIT */
#include "model.h"
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

void model_program_set_directory(struct program_run *p, const char *dir, bool pinned)
{
	if (dir != p->directory) {
		free(p->directory);
		p->directory = dir ? xstrdup(dir) : NULL;
	}
	p->pinned = pinned;
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

void model_worker_set_io(struct worker *w, struct worker_io *io)
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
