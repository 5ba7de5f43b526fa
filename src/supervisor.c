/* supervisor.c: held sockets, generations, signals and the stop sequence. */
/* SPDX-License-Identifier: MIT */
#include "supervisor.h"
#include "control.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "sd.h"
#include "sinks.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct supervisor sv;

/* --- held sockets -------------------------------------------------------- */

static void copy_socket_conf(struct socket_conf *dst, const struct socket_conf *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->listen = xstrdup(src->listen);
	dst->owner = xstrdup(src->owner ? src->owner : "");
	dst->group = xstrdup(src->group ? src->group : "");
}

static void free_socket_conf(struct socket_conf *c)
{
	free(c->name);
	free(c->listen);
	free(c->owner);
	free(c->group);
}

static struct held_socket *find_held(const struct address *a)
{
	for (struct held_socket *h = sv.sockets; h; h = h->next)
		if (address_equal(&h->conf.addr, a))
			return h;
	return NULL;
}

static void reuse_held(struct held_socket *h, const struct socket_conf *s)
{
	if (h->conf.backlog != s->backlog && h->conf.addr.kind != ADDR_SYSTEMD &&
	    listen_set_backlog(h->fd, s->backlog) < 0)
		syswarn("socket %s: new backlog %d", s->name, s->backlog);
	h->conf.backlog = s->backlog;
	if (strcmp(h->conf.name, s->name) != 0) {
		free(h->conf.name);
		h->conf.name = xstrdup(s->name);
	}
}

/* With the fd store, a socket that systemd kept for an earlier segue is
 * taken back by name, as long as it is still bound where the config says. */
static int take_stored(const struct socket_conf *s)
{
	if (s->addr.kind == ADDR_SYSTEMD)
		return -1;
	int fd = listen_claim_inherited(s->name);
	if (fd >= 0 && !listen_matches(fd, &s->addr)) {
		warn("socket %s: the stored socket is not bound to %s any more: binding anew",
		     s->name, s->listen);
		close(fd);
		unstore_socket(s->name);
		fd = -1;
	}
	return fd;
}

/* systemd keeps every fd stored under a name: the old one must go before
 * a new one is stored, or the next start would get both. */
void unstore_socket(const char *name)
{
	char *state = xasprintf("FDSTOREREMOVE=1\nFDNAME=%s", name);
	if (sd_send_notify(state) < 0)
		syswarn("socket %s: removing it from systemd's fd store", name);
	free(state);
}

static void store_socket(const struct socket_conf *s, int fd)
{
	char *state = xasprintf("FDSTORE=1\nFDNAME=%s", s->name);
	if (sd_send_notify_fd(state, fd) < 0)
		syswarn("socket %s: handing it to systemd's fd store", s->name);
	free(state);
}

struct held_socket *supervisor_hold_socket(const struct socket_conf *s, bool fdstore,
					   char *err, size_t len)
{
	struct held_socket *h = find_held(&s->addr);
	if (h) {
		reuse_held(h, s);
		h->refs++;
		return h;
	}
	int fd = fdstore ? take_stored(s) : -1;
	bool stored = fd >= 0;
	if (fd < 0 && (fd = listen_open(s, err, len)) < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	copy_socket_conf(&h->conf, s);
	h->fd = fd;
	h->refs = 1;
	h->stored = fdstore && s->addr.kind != ADDR_SYSTEMD;
	h->next = sv.sockets;
	sv.sockets = h;
	if (h->stored && !stored)
		store_socket(s, fd);
	char bound[300];
	listen_describe(fd, bound, sizeof(bound));
	json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:b}", "socket", s->name, "listen",
			      s->listen, "address", bound, "fd", fd, "inherited",
			      stored || s->addr.kind == ADDR_SYSTEMD);
	event_emit(LEVEL_INFO, "socket_bound", f, "%s %s",
		   stored ? "reusing the socket systemd stored for" :
		   s->addr.kind == ADDR_SYSTEMD ? "holding the socket systemd passed for" : "holding",
		   bound);
	return h;
}

void supervisor_release_socket(struct held_socket *h)
{
	if (--h->refs > 0)
		return;
	for (struct held_socket **pp = &sv.sockets; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	json_t *f = json_pack("{s:s, s:s}", "socket", h->conf.name, "listen", h->conf.listen);
	event_emit(LEVEL_INFO, "socket_closed", f, "no generation uses %s any more",
		   h->conf.listen);
	if (h->stored && !sv.keep_stored)
		unstore_socket(h->conf.name);
	listen_close(&h->conf, h->fd);
	free_socket_conf(&h->conf);
	free(h);
}

/* --- generations --------------------------------------------------------- */

static void release_sockets(struct generation *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		supervisor_release_socket(g->sockets[i]);
	free(g->sockets);
	g->sockets = NULL;
}

static int hold_sockets(struct generation *g, char *err, size_t len)
{
	struct config *c = g->config;
	g->sockets = xcalloc(c->nsockets, sizeof(*g->sockets));
	for (size_t i = 0; i < c->nsockets; i++) {
		char why[256];
		g->sockets[i] = supervisor_hold_socket(&c->sockets[i], c->fdstore, why, sizeof(why));
		if (!g->sockets[i]) {
			snprintf(err, len, "socket %s (%s): %s", c->sockets[i].name,
				 c->sockets[i].listen, why);
			release_sockets(g, i);
			return -1;
		}
	}
	return 0;
}

struct generation *generation_new(struct config *config, char *err, size_t len)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->config = config_ref(config);
	if (hold_sockets(g, err, len) < 0) {
		config_unref(g->config);
		free(g);
		return NULL;
	}
	g->number = ++sv.last_generation;
	g->started = now_mono();
	g->nprograms = config->nprograms;
	g->programs = xcalloc(g->nprograms, sizeof(*g->programs));
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		p->gen = g;
		p->conf = &config->programs[i];
	}
	g->next = sv.generations;
	sv.generations = g;
	return g;
}

struct program_run *generation_program(const struct generation *g, const char *name)
{
	if (!g)
		return NULL;
	for (size_t i = 0; i < g->nprograms; i++)
		if (strcmp(g->programs[i].conf->name, name) == 0)
			return &g->programs[i];
	return NULL;
}

unsigned generation_live_workers(const struct generation *g)
{
	unsigned n = 0;
	for (const struct worker *w = sv.workers; w; w = w->next_in_all)
		if (w->prog->gen == g)
			n++;
	return n;
}

int program_ready_count(const struct program_run *p)
{
	int n = 0;
	for (int i = 0; i < p->desired; i++) {
		const struct worker *w = p->slots[i]->worker;
		if (w && w->state == WORKER_READY)
			n++;
	}
	return n;
}

bool generation_all_ready(const struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++)
		if (program_ready_count(&g->programs[i]) < g->programs[i].desired)
			return false;
	return true;
}

void generation_drain(struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		for (int j = 0; j < p->nslots; j++)
			ev_timer_stop(sv.loop, &p->slots[j]->restart);
	}
	for (struct worker *w = sv.workers; w; w = w->next_in_all)
		if (w->prog->gen == g)
			worker_drain(w);
}

static void generation_free(struct generation *g)
{
	for (struct generation **pp = &sv.generations; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		for (int j = 0; j < p->nslots; j++)
			slot_free(p->slots[j]);
		free(p->slots);
		free(p->directory);
	}
	free(g->programs);
	release_sockets(g, g->config->nsockets);
	config_unref(g->config);
	free(g);
}

/* A generation that no longer serves goes once its last worker is gone. */
void generation_maybe_free(struct generation *g)
{
	if (g == sv.serving || g == sv.pending || generation_live_workers(g) > 0)
		return;
	if (g->state == GEN_RETIRED) {
		json_t *f = json_pack("{s:I}", "generation", (json_int_t)g->number);
		event_emit(LEVEL_INFO, "drain_finished", f, "generation %u has no workers left",
			   g->number);
	}
	generation_free(g);
}

void generation_start_all(struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++) {
		struct program_run *p = &g->programs[i];
		program_scale(p, p->conf->workers);
	}
}

/* --- systemd ------------------------------------------------------------- */

void supervisor_notify_systemd(const char *state)
{
	if (sd_send_notify(state) < 0)
		syswarn("notifying systemd (NOTIFY_SOCKET)");
}

/* One line for systemctl status: what serves, and how the last reload went. */
void supervisor_status_line(char *buf, size_t len)
{
	int ready = 0, desired = 0;
	for (size_t i = 0; sv.serving && i < sv.serving->nprograms; i++) {
		ready += program_ready_count(&sv.serving->programs[i]);
		desired += sv.serving->programs[i].desired;
	}
	snprintf(buf, len, "generation %u: %d of %d workers ready%s%.300s",
		 sv.serving ? sv.serving->number : 0, ready, desired,
		 sv.last_reload[0] ? "; last reload: " : "", sv.last_reload);
}

static ev_timer watchdog;

static void watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	supervisor_notify_systemd("WATCHDOG=1");
}

/* systemd's watchdog wants WATCHDOG=1 within WATCHDOG_USEC: every half
 * of it. The timer exists only when the watchdog is on. */
static void start_watchdog(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	if (!usec || (pid && strtol(pid, &end, 10) != (long)getpid()))
		return;
	double interval = strtod(usec, &end) / 2e6;
	if (*end || interval <= 0) {
		warn("ignoring WATCHDOG_USEC=%s", usec);
		return;
	}
	ev_timer_init(&watchdog, watchdog_cb, interval, interval);
	ev_timer_start(sv.loop, &watchdog);
}

/* --- stop ---------------------------------------------------------------- */

void supervisor_check_done(void)
{
	if (sv.stopping && !sv.workers)
		ev_break(sv.loop, EVBREAK_ALL);
}

void supervisor_stop(bool now)
{
	if (now) {
		event_emit(LEVEL_WARN, "stopping", NULL, "second stop request: killing every worker");
		for (struct worker *w = sv.workers; w; w = w->next_in_all)
			if (w->pid > 0)
				kill(-w->pid, SIGKILL);
		ev_break(sv.loop, EVBREAK_ALL);
		return;
	}
	sv.stopping = true;
	event_emit(LEVEL_INFO, "stopping", NULL, "draining every worker");
	reload_stop();
	supervisor_notify_systemd("STOPPING=1\nSTATUS=stopping: draining every worker");
	for (struct generation *g = sv.generations; g; g = g->next)
		generation_drain(g);
	supervisor_check_done();
}

/* --- signals and children ----------------------------------------------- */

static void scale_all(int delta)
{
	for (size_t i = 0; sv.serving && i < sv.serving->nprograms; i++) {
		struct program_run *p = &sv.serving->programs[i];
		int n = p->desired + delta < 1 ? 1 : p->desired + delta;
		program_scale(p, n);
		struct program_run *pending = generation_program(sv.pending, p->conf->name);
		if (pending)
			program_scale(pending, n);
		event_emit(LEVEL_INFO, "scaled", json_pack("{s:s, s:i}", "program", p->conf->name,
							   "desired", n),
			   "%s: %d workers wanted", delta > 0 ? "SIGTTIN" : "SIGTTOU", n);
	}
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	switch (w->signum) {
	case SIGHUP:
		reload_request("SIGHUP");
		break;
	case SIGTERM:
	case SIGINT:
		supervisor_stop(sv.stopping);
		break;
	case SIGUSR1:
		if (log_reopen() < 0)
			syswarn("reopening the log file");
		break;
	case SIGUSR2:
		warn("SIGUSR2 (upgrade) is not supported yet: ignored");
		break;
	case SIGTTIN:
		scale_all(+1);
		break;
	case SIGTTOU:
		scale_all(-1);
		break;
	}
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	worker_child_exited(w->rpid, w->rstatus);
}

static ev_signal signals[7];
static ev_child children;

static void watch_signals(void)
{
	static const int nums[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		ev_signal_init(&signals[i], signal_cb, nums[i]);
		ev_signal_start(sv.loop, &signals[i]);
	}
	ev_child_init(&children, child_cb, 0, 0);
	ev_child_start(sv.loop, &children);
	signal(SIGPIPE, SIG_IGN);
}

/* --- start and run ------------------------------------------------------- */

/* Frees what is left after the loop ends, so that leak checkers see a
 * clean exit. After a second TERM workers may still be listed. */
static void teardown(void)
{
	/* A stop is often half of a restart: systemd drops the fd store
	 * itself when the service really stops. */
	sv.keep_stored = true;
	while (sv.workers) {
		struct worker *w = sv.workers;
		w->prog->gen->state = GEN_FAILED;
		worker_forget(w);
	}
	sv.serving = sv.pending = NULL;
	while (sv.generations)
		generation_maybe_free(sv.generations);
	config_unref(sv.config);
	sv.config = NULL;
	reload_forget();
	control_close();
	sinks_stop();
	notify_dir_close();
	ev_timer_stop(sv.loop, &watchdog);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		ev_signal_stop(sv.loop, &signals[i]);
	ev_child_stop(sv.loop, &children);
}

int supervisor_run(struct config *config)
{
	sv.loop = EV_DEFAULT;
	sv.started_wall = now_wall();
	sv.started_mono = now_mono();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		syswarn("cannot become a child subreaper: orphans go to init");
	watch_signals();
	start_watchdog();
	sinks_start();
	sv.config = config_ref(config);
	char err[512];
	if (control_open(sv.control_path, config->control_mode, config->control_group, err,
			 sizeof(err)) < 0) {
		event_emit(LEVEL_ERROR, "stopped", NULL, "control socket: %s", err);
		teardown();
		return 2;
	}
	if (notify_dir_open() < 0) {
		event_emit(LEVEL_ERROR, "stopped", NULL, "directory for notify sockets: %s",
			   strerror(errno));
		teardown();
		return 2;
	}
	struct generation *g = generation_new(config, err, sizeof(err));
	listen_close_unclaimed(config->fdstore ? unstore_socket : NULL);
	if (!g) {
		event_emit(LEVEL_ERROR, "stopped", NULL, "%s", err);
		teardown();
		return 2;
	}
	g->state = GEN_SERVING;
	sv.serving = g;
	json_t *f = json_pack("{s:i, s:I}", "pid", (int)getpid(), "generation",
			      (json_int_t)g->number);
	event_emit(LEVEL_INFO, "started", f, "segue %s", PACKAGE_VERSION);
	generation_start_all(g);
	ev_run(sv.loop, 0);
	teardown();
	event_emit(LEVEL_INFO, "stopped", NULL, "all workers are gone");
	return 0;
}
