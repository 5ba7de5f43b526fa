/* core.c: the supervisor's commands, signals and children, its start and
 * stop, and settle: the one step that brings the model in line. */
/* SPDX-License-Identifier: MIT */
#include "core.h"
#include "check.h"
#include "hold.h"
#include "listen.h"
#include "log.h"
#include "model.h"
#include "reload.h"
#include "sinks.h"
#include "upgrade.h"
#include "util.h"
#include "version.h"
#include "watch.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Workers spawned in one pass of the loop at most: each is a fork and an
 * exec of /bin/sh, and the control socket must not wait for 1,000. */
#define SPAWNS_PER_PASS 8
/* Descriptors kept free for control clients and the like. */
#define CONTROL_FDS 80

/* The signals segue acts on. Each has a handler: none may take its
 * default action, which ends segue (TERM, HUP) or, when segue is PID 1
 * of a namespace (a container), does nothing at all. */
static const int handled[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU};
static ev_signal signals[ARRAY_SIZE(handled)];
static ev_child children;
static ev_prepare grant;   /* a new spawn budget for each pass */
static ev_idle spawn_more; /* only while spawns wait for budget */
static bool settling, unsettled;

/* --- settle -------------------------------------------------------------- */

static void restart_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	core_settle();
}

static void arm_restart(struct slot *s, double now)
{
	if (ev_is_active(&s->restart))
		return;
	ev_timer_init(&s->restart, restart_cb, s->restart_due - now, 0);
	ev_timer_start(EV_DEFAULT, &s->restart);
}

/* Slots above `desired` are emptied; with `fill`, the empty ones below
 * get a worker, after their restart delay when the last one failed. */
static void settle_program(struct program_run *p, bool fill)
{
	double now = now_mono();
	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = p->slots[i];
		if (i >= p->desired) {
			if (s->worker)
				worker_event(s->worker, WEV_DRAIN);
			continue;
		}
		if (!fill || s->worker || s->waits_exit || reload_holds_slot(p, i))
			continue;
		if (s->restart_due > now)
			arm_restart(s, now);
		else if (worker_can_spawn())
			worker_spawn(p, i);
	}
}

static void settle_generation(struct generation *g, bool fill)
{
	for (size_t i = 0; g && i < g->nprograms; i++)
		settle_program(&g->programs[i], fill);
}

static void stop_slot_timers(struct generation *g)
{
	for (size_t i = 0; i < g->nprograms; i++)
		for (int j = 0; j < g->programs[i].nslots; j++)
			ev_timer_stop(EV_DEFAULT, &g->programs[i].slots[j]->restart);
}

/* A generation that neither serves nor is pending goes once its last
 * worker is gone; its sockets close when no generation holds them. */
static void free_drained(void)
{
	struct generation *g = model->generations;
	while (g) {
		if (g == model->serving || g == model->pending || g->live > 0) {
			g = g->next;
			continue;
		}
		if (g->state == GEN_RETIRED) {
			char release[256];
			model_generation_release(g, release, sizeof(release));
			event_emit(LEVEL_INFO, "drain_finished",
				   json_pack("{s:I, s:s*}", "generation", (json_int_t)g->number,
					     "release", *release ? release : NULL),
				   "generation %u has no workers left", g->number);
		}
		stop_slot_timers(g);
		model_generation_free(g, hold_release);
		g = model->generations; /* the list changed */
	}
}

/* A check runs while it judges a release (a held canary, a watched
 * generation) and, with check-always, for the serving generation. */
static bool check_wanted(const struct program_run *p)
{
	if (model->stopping)
		return false;
	return reload_judges(p) || watch_judges(p) ||
	       (p->conf->check_always && p->gen == model->serving);
}

/* A watched release that failed goes back to the previous one: once the
 * reload that deployed it has ended (a steered handover runs on after
 * its commit), and only if a rollback can start. */
static void judge_watch(void)
{
	char why[512], err[256];
	if (!watch_settle(why, sizeof(why)) || reload_running())
		return;
	if (!reload_can_roll_back(err, sizeof(err))) {
		watch_fail(why, err);
		return;
	}
	watch_fail(why, NULL);
	if (!reload_rollback("auto_rollback", err, sizeof(err)))
		warn("auto_rollback: %s", err); /* reload_can_roll_back said yes */
}

static void settle_pass(void)
{
	reload_settle();
	judge_watch();
	settle_generation(model->serving, !model->stopping);
	settle_generation(model->pending, false);
	check_settle(check_wanted);
	free_drained();
}

void core_settle(void)
{
	if (settling) {
		unsettled = true;
		return;
	}
	settling = true;
	/* Each pass may change what the next one sees (a commit retires a
	 * generation, an abort gives slots back): until nothing changes. */
	for (int i = 0; i < 64; i++) {
		unsigned version = model->version;
		unsettled = false;
		settle_pass();
		if (model->version == version && !unsettled)
			break;
	}
	settling = false;
	if (model->stopping && model->nworkers == 0)
		ev_break(EV_DEFAULT, EVBREAK_ALL);
	if (!worker_can_spawn())
		ev_idle_start(EV_DEFAULT, &spawn_more);
}

static void grant_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	worker_grant_spawns(SPAWNS_PER_PASS);
}

static void spawn_more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	core_settle();
}

/* --- commands ------------------------------------------------------------ */

unsigned core_reload(const char *source)
{
	unsigned id = reload_request(source);
	core_settle();
	return id;
}

unsigned core_rollback(const char *source, char *err, size_t len)
{
	unsigned id = reload_rollback(source, err, len);
	core_settle();
	return id;
}

static void set_desired(const char *name, int workers, const char *source)
{
	/* The reload under way starts the new generation with as many. */
	model_program_set_desired(model_program(model->serving, name), workers);
	struct program_run *pending = model_program(model->pending, name);
	if (pending)
		model_program_set_desired(pending, workers);
	event_emit(
	    LEVEL_INFO, "scaled",
	    json_pack("{s:s, s:i, s:s}", "program", name, "desired", workers, "source", source),
	    "%s: %d workers wanted", source, workers);
}

/* Each worker costs segue a notify socket, and an output pipe with
 * stdout = capture; a reload needs as many again for a while. A scale
 * that would run segue out of descriptors is refused, so that control
 * clients and the next reload still find some. */
static bool fds_short(const struct program_run *p, int workers, char *err, size_t len)
{
	struct rlimit rl;
	int more = workers - p->desired;
	if (more <= 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	int each = p->conf->stdout_mode == STDOUT_CAPTURE ? 2 : 1;
	long need = (long)count_open_fds() + 2L * more * each + CONTROL_FDS;
	if (need <= (long)rl.rlim_cur)
		return false;
	snprintf(err, len,
		 "%d workers of %s need about %ld descriptors with a reload under way; "
		 "segue may open %ld (LimitNOFILE=, ulimit -n)",
		 workers, p->conf->name, need, (long)rl.rlim_cur);
	return true;
}

int core_scale(const char *program, int workers, const char *source, char *err, size_t len)
{
	if (!model_program(model->serving, program)) {
		snprintf(err, len, "no program \"%s\"", program);
		return -1;
	}
	if (workers < 0 || workers > MODEL_MAX_WORKERS) {
		snprintf(err, len, "workers must be from 0 to %d", MODEL_MAX_WORKERS);
		return -1;
	}
	if (fds_short(model_program(model->serving, program), workers, err, len))
		return -1;
	set_desired(program, workers, source);
	core_settle();
	return 0;
}

/* TTIN: one more for every program. TTOU: one fewer, but not the last
 * one (a signal sent twice must not take the service down); a program
 * scaled to 0 stays at 0. */
void core_scale_all(int delta, const char *source)
{
	const struct generation *g = model->serving;
	for (size_t i = 0; g && i < g->nprograms; i++) {
		int n = g->programs[i].desired;
		int to = delta > 0 ? n + 1 : n > 1 ? n - 1 : n;
		char err[256];
		if (to > MODEL_MAX_WORKERS || fds_short(&g->programs[i], to, err, sizeof(err))) {
			warn("%s: %s", source, to > MODEL_MAX_WORKERS ? "too many workers" : err);
			to = n;
		}
		set_desired(g->programs[i].conf->name, to, source);
	}
	core_settle();
}

int core_signal(const char *program, int sig, char *err, size_t len)
{
	const struct program_run *p = model_program(model->serving, program);
	if (!p) {
		snprintf(err, len, "no program \"%s\"", program);
		return -1;
	}
	int n = 0;
	for (const struct worker *w = model->workers; w; w = w->next)
		if (w->prog == p && w->pid > 0 && kill(-w->pid, sig) == 0)
			n++;
	return n;
}

int core_upgrade(char *err, size_t len)
{
	return upgrade_start(err, len);
}

void core_stop(bool now)
{
	if (now) {
		event_emit(LEVEL_WARN, "stopping", NULL,
			   "second stop request: killing every worker");
		for (struct worker *w = model->workers; w; w = w->next)
			worker_event(w, WEV_KILL);
		ev_break(EV_DEFAULT, EVBREAK_ALL);
		return;
	}
	model_set_stopping();
	event_emit(LEVEL_INFO, "stopping", NULL, "draining every worker");
	reload_stop();
	for (const struct generation *g = model->generations; g; g = g->next)
		worker_drain_generation(g);
	core_settle();
}

/* --- signals and children ------------------------------------------------ */

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	switch (w->signum) {
	case SIGHUP:
		core_reload("SIGHUP");
		break;
	case SIGTERM:
	case SIGINT:
		core_stop(model->stopping);
		break;
	case SIGUSR1:
		log_reopen(); /* a failure is logged, and the old file stays */
		break;
	case SIGUSR2: {
		char err[256];
		core_upgrade(err, sizeof(err)); /* events say how it goes */
		break;
	}
	case SIGTTIN:
	case SIGTTOU:
		core_scale_all(w->signum == SIGTTIN ? +1 : -1,
			       w->signum == SIGTTIN ? "SIGTTIN" : "SIGTTOU");
		break;
	}
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	if (!sinks_child_exited(w->rpid, w->rstatus) && !worker_reaped(w->rpid, w->rstatus) &&
	    !check_reaped(w->rpid, w->rstatus) && !upgrade_child_exited(w->rpid, w->rstatus))
		/* an orphan of some worker, reaped as the subreaper */
		worker_check_lingering();
	core_settle();
}

void core_hold_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
		sigaddset(&set, handled[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		syswarn("blocking signals until they are watched");
}

/* Handlers first, then an empty mask: what core_hold_signals (or the
 * image before an upgrade) blocked is delivered now, and a mask that
 * segue inherited (a parent that blocked TERM) cannot hide a signal. */
static void watch(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(handled); i++) {
		ev_signal_init(&signals[i], signal_cb, handled[i]);
		ev_signal_start(EV_DEFAULT, &signals[i]);
	}
	ev_child_init(&children, child_cb, 0, 0);
	ev_child_start(EV_DEFAULT, &children);
	ev_prepare_init(&grant, grant_cb);
	ev_prepare_start(EV_DEFAULT, &grant);
	ev_idle_init(&spawn_more, spawn_more_cb);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		syswarn("ignoring SIGPIPE");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		syswarn("cannot become a child subreaper: orphans go to init");
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		syswarn("unblocking signals");
}

/* --- start and teardown -------------------------------------------------- */

/* At start, a bind that finds its address in use is retried as long as
 * the longest drain-timeout: the workers of a segue that was killed get
 * their drain signal (PR_SET_PDEATHSIG) and let go within it. */
static double longest_drain(const struct config *c)
{
	double d = 0;
	for (size_t i = 0; i < c->nprograms; i++)
		if (c->programs[i].drain_timeout > d)
			d = c->programs[i].drain_timeout;
	return d;
}

static struct held_socket **hold_all(struct config *c, char *err, size_t len)
{
	struct held_socket **held = xcalloc(c->nsockets + 1, sizeof(*held));
	for (size_t i = 0; i < c->nsockets; i++) {
		char why[256];
		held[i] =
		    hold_socket(&c->sockets[i], c->fdstore, longest_drain(c), why, sizeof(why));
		if (!held[i]) {
			snprintf(err, len, "socket %s (%s): %s", c->sockets[i].name,
				 c->sockets[i].listen, why);
			while (i-- > 0)
				hold_release(held[i]);
			free(held);
			return NULL;
		}
	}
	return held;
}

int core_start(struct config *config, char *err, size_t len)
{
	watch();
	model_set_config(config);
	struct held_socket **held = hold_all(config, err, len);
	listen_close_unclaimed(config->fdstore ? hold_unstore : NULL);
	if (!held)
		return -1;
	struct generation *g = model_generation_new(config, held);
	model_generation_set_state(g, GEN_SERVING);
	model_set_serving(g);
	for (size_t i = 0; i < g->nprograms; i++)
		model_program_set_desired(&g->programs[i], g->programs[i].conf->workers);
	event_emit(
	    LEVEL_INFO, "started",
	    json_pack("{s:i, s:I}", "pid", (int)getpid(), "generation", (json_int_t)g->number),
	    "segue %s", segue_version);
	worker_grant_spawns(SPAWNS_PER_PASS);
	core_settle();
	return 0;
}

void core_adopt(void)
{
	watch(); /* unblocks what the previous image blocked for the exec */
	/* children that exited meanwhile are reaped as any other */
	ev_feed_signal(SIGCHLD);
	worker_grant_spawns(SPAWNS_PER_PASS);
	core_settle();
}

void core_teardown(void)
{
	hold_keep_stored();
	check_forget();
	while (model->workers)
		worker_forget(model->workers);
	model_set_serving(NULL);
	model_set_pending(NULL);
	free_drained();
	model_set_config(NULL);
	reload_forget();
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		ev_signal_stop(EV_DEFAULT, &signals[i]);
	ev_child_stop(EV_DEFAULT, &children);
	ev_prepare_stop(EV_DEFAULT, &grant);
	ev_idle_stop(EV_DEFAULT, &spawn_more);
}
