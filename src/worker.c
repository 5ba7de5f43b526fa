/* worker.c: one worker's life: spawn, readiness, drain, exit and restart. */
/* SPDX-License-Identifier: MIT */
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "sinks.h"
#include "spawn.h"
#include "supervisor.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A worker that ran this long before exiting was healthy: its slot's
 * restart delay starts over (SPEC: decided at exit, no timer). */
#define HEALTHY_RUN_SECONDS 10.0
#define CRASH_LOOP_FAILURES 5
#define READY_EXEC_INTERVAL 0.25

static const char *const state_names[] = {"starting", "ready", "draining"};

const char *worker_state_name(enum worker_state s)
{
	return state_names[s];
}

static json_t *worker_fields(const struct worker *w)
{
	return json_pack("{s:s, s:I, s:i, s:i}", "program", w->prog->conf->name,
			 "generation", (json_int_t)w->prog->gen->number, "slot", w->slot,
			 "pid", (int)w->pid);
}

static void set_state(struct worker *w, enum worker_state s)
{
	w->state = s;
	w->since = now_wall();
}

/* --- environment and command line -------------------------------------- */

/* Variables segue sets for every worker: never taken from its own
 * environment nor from the config's env. */
static bool reserved(const char *entry)
{
	static const char *const names[] = {
		"LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
		"WATCHDOG_USEC=", "WATCHDOG_PID=", "SEGUE_", "EINHORN_", "SERVER_STARTER_",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

static bool env_overridden(const char *entry, const struct program_conf *c)
{
	if (reserved(entry))
		return true;
	size_t keylen = strcspn(entry, "=");
	for (size_t i = 0; i < c->nenv; i++)
		if (strncmp(entry, c->env[i], keylen + 1) == 0)
			return true;
	return false;
}

static void add_fd_protocol_env(struct strv *env, const struct program_run *p, int slot)
{
	const struct program_conf *c = p->conf;
	if (c->fd_protocols & FD_PROTO_EINHORN) {
		strv_push(env, xasprintf("EINHORN_FD_COUNT=%zu", c->nsockets));
		for (size_t i = 0; i < c->nsockets; i++)
			strv_push(env, xasprintf("EINHORN_FD_%zu=%d", i, 3 + (int)i));
		strv_push(env, xasprintf("EINHORN_CHILD_INDEX=%d", slot));
	}
	if (c->fd_protocols & FD_PROTO_SERVER_STARTER) {
		struct strv parts = {0};
		for (size_t i = 0; i < c->nsockets; i++) {
			const struct address *a = &p->gen->sockets[c->socket_index[i]]->conf.addr;
			char addr[300];
			if (a->kind == ADDR_UNIX)
				snprintf(addr, sizeof(addr), "%s", a->path);
			else
				format_address(a, addr, sizeof(addr));
			/* Server::Starter writes a bare port for "every address". */
			const char *shown = addr[0] == ':' ? addr + 1 : addr;
			strv_push(&parts, xasprintf("%s=%d", shown, 3 + (int)i));
		}
		size_t len = 1;
		for (size_t i = 0; i < parts.n; i++)
			len += strlen(parts.v[i]) + 1;
		char *joined = xcalloc(1, len);
		for (size_t i = 0; i < parts.n; i++) {
			if (i)
				strcat(joined, ";");
			strcat(joined, parts.v[i]);
		}
		strv_push(env, xasprintf("SERVER_STARTER_PORT=%s", joined));
		strv_push(env, xasprintf("SERVER_STARTER_GENERATION=%u", p->gen->number));
		free(joined);
		strv_free(&parts);
	}
}

static char *join_socket_names(const struct program_conf *c)
{
	size_t len = 1;
	for (size_t i = 0; i < c->nsockets; i++)
		len += strlen(c->sockets[i]) + 1;
	char *s = xcalloc(1, len);
	for (size_t i = 0; i < c->nsockets; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, c->sockets[i]);
	}
	return s;
}

/* Returns the LISTEN_PID entry, which the child fills in with its pid. */
static char *build_env(struct strv *env, const struct worker *w, const char *notify_name)
{
	const struct program_run *p = w->prog;
	const struct program_conf *c = p->conf;
	for (char **e = environ; *e; e++)
		if (!env_overridden(*e, c))
			strv_push(env, xstrdup(*e));
	for (size_t i = 0; i < c->nenv; i++)
		if (!reserved(c->env[i]))
			strv_push(env, xstrdup(c->env[i]));
	char *names = join_socket_names(c);
	strv_push(env, xasprintf("LISTEN_FDS=%zu", c->nsockets));
	strv_push(env, xasprintf("LISTEN_FDNAMES=%s", names));
	free(names);
	char *pid_entry = xcalloc(1, sizeof("LISTEN_PID=") + SPAWN_PID_ROOM);
	strcpy(pid_entry, "LISTEN_PID=");
	strv_push(env, pid_entry);
	strv_push(env, xasprintf("SEGUE_PROGRAM=%s", c->name));
	strv_push(env, xasprintf("SEGUE_GENERATION=%u", p->gen->number));
	strv_push(env, xasprintf("SEGUE_WORKER=%d", w->slot));
	strv_push(env, xasprintf("SEGUE_CONTROL=%s", sv.control_path));
	strv_push(env, xasprintf("NOTIFY_SOCKET=%s", notify_name));
	add_fd_protocol_env(env, p, w->slot);
	return pid_entry + strlen("LISTEN_PID=");
}

static int socket_position(const struct program_conf *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->nsockets; i++)
		if (strlen(c->sockets[i]) == len && strncmp(c->sockets[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* Expands {fd:NAME}, {generation} and {worker}; other braces stay as they
 * are, since shell commands use them too. */
char *expand_command(const struct program_conf *c, unsigned generation, int slot)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (!f)
		abort();
	for (const char *s = c->command; *s;) {
		const char *close = *s == '{' ? strchr(s, '}') : NULL;
		int pos;
		if (close && strncmp(s, "{fd:", 4) == 0 &&
		    (pos = socket_position(c, s + 4, (size_t)(close - s - 4))) >= 0)
			fprintf(f, "%d", 3 + pos);
		else if (close && strncmp(s, "{generation}", 12) == 0)
			fprintf(f, "%u", generation);
		else if (close && strncmp(s, "{worker}", 8) == 0)
			fprintf(f, "%d", slot);
		else {
			putc(*s++, f);
			continue;
		}
		s = close + 1;
	}
	fclose(f);
	return out;
}

/* --- spawning ------------------------------------------------------------ */

static struct slot *worker_slot(const struct worker *w)
{
	const struct program_run *p = w->prog;
	if (w->slot < p->nslots && p->slots[w->slot]->worker == w)
		return p->slots[w->slot];
	return NULL;
}

static void notify_cb(struct ev_loop *loop, ev_io *io, int revents);
static void output_cb(struct ev_loop *loop, ev_io *io, int revents);
static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void ready_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void worker_gone(struct worker *w, const char *reason, bool failed);

static const char *resolve_directory(struct program_run *p, char *err, size_t len)
{
	if (p->pinned)
		return p->directory;
	const char *dir = *p->conf->directory ? p->conf->directory : sv.default_directory;
	if (!dir)
		return NULL;
	char *real = realpath(dir, NULL);
	if (!real) {
		snprintf(err, len, "directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	free(p->directory);
	p->directory = real;
	return real;
}

static int open_output(struct worker *w, int *write_end)
{
	*write_end = -1;
	w->output_fd = -1;
	if (w->prog->conf->stdout_mode != STDOUT_CAPTURE)
		return 0;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fd_set_nonblock(fds[0], true);
	w->output_fd = fds[0];
	*write_end = fds[1];
	ev_io_init(&w->output_io, output_cb, fds[0], EV_READ);
	w->output_io.data = w;
	ev_io_start(sv.loop, &w->output_io);
	return 0;
}

static int open_notify(struct worker *w, uid_t owner, char *err, size_t errlen)
{
	w->notify_fd = notify_open(owner, w->notify_path, sizeof(w->notify_path));
	if (w->notify_fd < 0) {
		snprintf(err, errlen, "notify socket: %s", strerror(errno));
		return -1;
	}
	ev_io_init(&w->notify_io, notify_cb, w->notify_fd, EV_READ);
	w->notify_io.data = w;
	ev_io_start(sv.loop, &w->notify_io);
	return 0;
}

static pid_t start_process(struct worker *w, char *err, size_t errlen)
{
	struct program_run *p = w->prog;
	const struct program_conf *c = p->conf;
	int fds[c->nsockets ? c->nsockets : 1];
	for (size_t i = 0; i < c->nsockets; i++)
		fds[i] = p->gen->sockets[c->socket_index[i]]->fd;
	err[0] = '\0';
	struct spawn_spec spec = {.fds = fds, .nfds = c->nsockets};
	spec.directory = resolve_directory(p, err, errlen);
	if (err[0])
		return -1;
	gid_t *groups = NULL;
	if (spawn_lookup_ids(c->user, c->group, &spec, &groups, err, errlen) < 0 ||
	    open_notify(w, spec.set_ids ? spec.uid : geteuid(), err, errlen) < 0) {
		free(groups);
		return -1;
	}
	struct strv env = {0};
	spec.listen_pid_slot = build_env(&env, w, w->notify_path);
	spec.env = env.v;
	char *command = expand_command(c, p->gen->number, w->slot);
	spec.command = command;
	int write_end = -1;
	pid_t pid = -1;
	if (open_output(w, &write_end) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
	} else {
		spec.output_fd = write_end; /* -1: segue's own stdout and stderr */
		pid = spawn(&spec, err, errlen);
	}
	if (write_end >= 0)
		close(write_end);
	free(command);
	strv_free(&env);
	free(groups);
	return pid;
}

static void start_readiness(struct worker *w)
{
	const struct program_conf *c = w->prog->conf;
	/* Timers count from the loop's idea of now, which is as old as this
	 * loop pass; spawning several workers in one pass takes real time. */
	ev_now_update(sv.loop);
	ev_timer_init(&w->timer, timer_cb, c->ready_timeout, 0);
	ev_timer_start(sv.loop, &w->timer);
	if (c->ready == READY_DELAY) {
		ev_timer_init(&w->ready_timer, ready_timer_cb, c->ready_delay, 0);
		ev_timer_start(sv.loop, &w->ready_timer);
	} else if (c->ready == READY_EXEC) {
		ev_timer_init(&w->ready_timer, ready_timer_cb, 0, 0);
		ev_timer_start(sv.loop, &w->ready_timer);
	}
}

static void spawn_failed_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	worker_gone(w, w->status, !w->drain_sent);
}

void worker_spawn(struct program_run *p, int slot)
{
	if (sv.stopping)
		return;
	struct slot *s = p->slots[slot];
	struct worker *w = xcalloc(1, sizeof(*w));
	w->prog = p;
	w->slot = slot;
	w->notify_fd = -1;
	w->output_fd = -1;
	w->restarts = s->restarts;
	w->started = now_mono();
	set_state(w, WORKER_STARTING);
	w->next_in_all = sv.workers;
	sv.workers = w;
	s->worker = w;
	w->timer.data = w;
	w->ready_timer.data = w;
	char err[512];
	w->pid = start_process(w, err, sizeof(err));
	if (w->pid < 0) {
		w->pid = 0;
		snprintf(w->status, sizeof(w->status), "worker %d cannot start: %s", slot, err);
		/* Handled from the loop, not here: the caller may be walking
		 * the generation this failure is about to roll back. */
		ev_timer_init(&w->timer, spawn_failed_cb, 0, 0);
		ev_timer_start(sv.loop, &w->timer);
		return;
	}
	event_emit(LEVEL_INFO, "worker_spawned", worker_fields(w), "%s",
		   p->directory ? p->directory : "");
	start_readiness(w);
}

/* --- readiness ----------------------------------------------------------- */

static void worker_ready(struct worker *w)
{
	if (w->state != WORKER_STARTING)
		return;
	ev_timer_stop(sv.loop, &w->timer);
	ev_timer_stop(sv.loop, &w->ready_timer);
	set_state(w, WORKER_READY);
	event_emit(LEVEL_INFO, "worker_ready", worker_fields(w), "ready after %.0f ms",
		   (now_mono() - w->started) * 1000.0);
	reload_worker_ready(w);
}

static bool sender_allowed(const struct worker *w, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	const char *user = w->prog->conf->user;
	struct spawn_spec spec = {0};
	gid_t *groups = NULL;
	char err[128];
	bool ok = *user && spawn_lookup_ids(user, NULL, &spec, &groups, err, sizeof(err)) == 0 &&
		  spec.uid == cred->uid;
	free(groups);
	return ok;
}

static void handle_notification(struct worker *w, const struct notify_msg *m)
{
	if (m->has_status)
		snprintf(w->status, sizeof(w->status), "%s", m->status);
	if (m->ready && w->prog->conf->ready == READY_NOTIFY)
		worker_ready(w);
	if (m->stopping && w->state != WORKER_DRAINING)
		set_state(w, WORKER_DRAINING);
}

/* At most one line a second per worker: a flood of garbage must not
 * flood the log too. */
static void __attribute__((format(printf, 2, 3)))
notify_ignored(struct worker *w, const char *fmt, ...)
{
	double now = now_mono();
	if (now - w->notify_warned < 1.0)
		return;
	w->notify_warned = now;
	char why[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	event_emit(LEVEL_WARN, "notify_ignored", worker_fields(w), "%s", why);
}

static void notify_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	char buf[NOTIFY_MAX_DATAGRAM];
	/* A bounded batch: a flood cannot starve the rest of the loop. */
	for (int i = 0; i < 64; i++) {
		size_t len;
		struct ucred cred;
		int r = notify_receive(w->notify_fd, buf, sizeof(buf), &len, &cred);
		if (r == 0)
			return;
		struct notify_msg m;
		if (r < 0) {
			notify_ignored(w, "datagram over %d bytes or without credentials",
				       NOTIFY_MAX_DATAGRAM);
			continue;
		}
		if (!sender_allowed(w, &cred)) {
			notify_ignored(w, "datagram from uid %ld, which may not notify", (long)cred.uid);
			continue;
		}
		if (notify_parse(buf, len, &m) < 0) {
			notify_ignored(w, "malformed datagram of %zu bytes", len);
			continue;
		}
		handle_notification(w, &m);
		if (w->exited)
			return;
	}
}

static void run_ready_command(struct worker *w)
{
	const struct program_conf *c = w->prog->conf;
	struct strv env = {0};
	for (char **e = environ; *e; e++)
		strv_push(&env, xstrdup(*e));
	strv_push(&env, xasprintf("SEGUE_WORKER_PID=%d", (int)w->pid));
	strv_push(&env, xasprintf("SEGUE_WORKER=%d", w->slot));
	strv_push(&env, xasprintf("SEGUE_PROGRAM=%s", c->name));
	strv_push(&env, xasprintf("SEGUE_GENERATION=%u", w->prog->gen->number));
	struct spawn_spec spec = {
		.command = c->ready_command, .directory = w->prog->directory,
		.env = env.v, .output_fd = -1, .shell_line = true,
	};
	char err[256];
	w->ready_pid = spawn(&spec, err, sizeof(err));
	if (w->ready_pid < 0) {
		w->ready_pid = 0;
		warn("ready-command for worker %d: %s", (int)w->pid, err);
	}
	strv_free(&env);
}

static void ready_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	if (w->prog->conf->ready == READY_DELAY) {
		worker_ready(w);
		return;
	}
	if (!w->ready_pid)
		run_ready_command(w);
}

/* A ready-command exited: ready on 0, else try again in a moment. */
static void ready_command_exited(struct worker *w, int status)
{
	w->ready_pid = 0;
	if (w->state != WORKER_STARTING || w->exited)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		worker_ready(w);
		return;
	}
	ev_timer_set(&w->ready_timer, READY_EXEC_INTERVAL, 0);
	ev_timer_start(sv.loop, &w->ready_timer);
}

/* --- draining and killing ------------------------------------------------ */

static bool group_alive(pid_t pgid)
{
	return pgid > 0 && kill(-pgid, 0) == 0;
}

static void signal_group(struct worker *w, int sig)
{
	if (w->pid > 0 && kill(-w->pid, sig) < 0 && errno != ESRCH)
		syswarn("signalling worker %d", (int)w->pid);
}

void worker_drain(struct worker *w)
{
	if (w->drain_sent)
		return;
	struct slot *s = worker_slot(w);
	if (s)
		s->worker = NULL;
	w->drain_sent = true;
	set_state(w, WORKER_DRAINING);
	ev_timer_stop(sv.loop, &w->ready_timer);
	ev_timer_stop(sv.loop, &w->timer);
	if (w->pid <= 0) {
		/* never started: nothing to wait for */
		ev_timer_init(&w->timer, spawn_failed_cb, 0, 0);
		ev_timer_start(sv.loop, &w->timer);
		return;
	}
	const struct program_conf *c = w->prog->conf;
	if (c->kill_mode == KILL_PROCESS) {
		/* Only the worker: it stops its own children its own way. */
		if (kill(w->pid, c->drain_signal) < 0 && errno != ESRCH)
			syswarn("signalling worker %d", (int)w->pid);
	} else {
		signal_group(w, c->drain_signal);
	}
	ev_timer_init(&w->timer, timer_cb, c->drain_timeout, 0);
	ev_timer_start(sv.loop, &w->timer);
}

void worker_kill(struct worker *w)
{
	signal_group(w, SIGKILL);
	event_emit(LEVEL_WARN, "worker_killed", worker_fields(w),
		   "still alive after drain-timeout: killed its process group");
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	if (w->drain_sent) {
		worker_kill(w);
		if (w->exited)
			worker_gone(w, NULL, false);
		return;
	}
	/* ready-timeout */
	char reason[128];
	snprintf(reason, sizeof(reason), "worker %d (pid %d) not ready within %gs", w->slot,
		 (int)w->pid, w->prog->conf->ready_timeout);
	snprintf(w->status, sizeof(w->status), "%s", reason);
	event_emit(LEVEL_WARN, "worker_timeout", worker_fields(w), "%s", reason);
	reload_worker_failed(w, reason);
	if (!w->drain_sent) {
		/* a serving generation's worker: stop it, the exit restarts it */
		signal_group(w, SIGKILL);
	}
}

/* --- output capture ------------------------------------------------------ */

static void emit_output(struct worker *w, const char *line, size_t len)
{
	event_emit(LEVEL_INFO, "output", worker_fields(w), "%.*s", (int)len, line);
}

static void flush_output_lines(struct worker *w, bool all)
{
	char *buf = w->output_buf;
	size_t start = 0;
	for (size_t i = 0; i < w->output_len; i++) {
		if (buf[i] == '\n') {
			emit_output(w, buf + start, i - start);
			start = i + 1;
		}
	}
	if ((all || w->output_len - start >= 4096) && start < w->output_len) {
		emit_output(w, buf + start, w->output_len - start);
		start = w->output_len;
	}
	memmove(buf, buf + start, w->output_len - start);
	w->output_len -= start;
}

static void close_output(struct worker *w)
{
	if (w->output_fd < 0)
		return;
	flush_output_lines(w, true);
	ev_io_stop(sv.loop, &w->output_io);
	close(w->output_fd);
	w->output_fd = -1;
	free(w->output_buf);
	w->output_buf = NULL;
}

static void output_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	if (!w->output_buf)
		w->output_buf = xmalloc(8192);
	ssize_t n = read(w->output_fd, w->output_buf + w->output_len, 8192 - w->output_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_output(w);
		return;
	}
	w->output_len += (size_t)n;
	flush_output_lines(w, false);
}

/* --- exit ---------------------------------------------------------------- */

static void worker_free(struct worker *w)
{
	struct slot *s = worker_slot(w);
	if (s)
		s->worker = NULL;
	ev_timer_stop(sv.loop, &w->timer);
	ev_timer_stop(sv.loop, &w->ready_timer);
	if (w->notify_fd >= 0) {
		ev_io_stop(sv.loop, &w->notify_io);
		notify_close(w->notify_fd, w->notify_path);
	}
	close_output(w);
	for (struct worker **pp = &sv.workers; *pp; pp = &(*pp)->next_in_all) {
		if (*pp == w) {
			*pp = w->next_in_all;
			break;
		}
	}
	struct generation *g = w->prog->gen;
	free(w);
	generation_maybe_free(g);
	supervisor_check_done();
}

void worker_forget(struct worker *w)
{
	worker_free(w);
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %s%s", signal_name(WTERMSIG(status)),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
}

/* The worker is gone (or never started). `failed` when it was not asked
 * to stop: its slot is restarted, or a reload that waited for it fails. */
static void worker_gone(struct worker *w, const char *reason, bool failed)
{
	struct slot *s = worker_slot(w);
	double ran = now_mono() - w->started;
	if (failed) {
		reload_worker_failed(w, reason);
		s = worker_slot(w); /* a failed reload detaches it */
		if (s && w->prog->gen->state == GEN_SERVING && !sv.stopping) {
			s->worker = NULL;
			slot_schedule_restart(s, ran);
		}
	}
	worker_free(w);
}

static void worker_exited(struct worker *w, int status)
{
	char how[128];
	describe_status(status, how, sizeof(how));
	w->exited = true;
	ev_timer_stop(sv.loop, &w->ready_timer);
	json_t *fields = worker_fields(w);
	if (WIFEXITED(status))
		json_object_set_new(fields, "status", json_integer(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status))
		json_object_set_new(fields, "signal", json_string(signal_name(WTERMSIG(status))));
	event_emit(w->drain_sent ? LEVEL_INFO : LEVEL_WARN, "worker_exited", fields,
		   "%s after %.1fs", how, now_mono() - w->started);
	if (w->drain_sent) {
		/* Children left in its group still hold the sockets: the drain
		 * timer goes on and KILLs them. */
		if (group_alive(w->pid))
			return;
		worker_gone(w, NULL, false);
		return;
	}
	/* An unexpected exit: whatever it left in its group goes with it. */
	signal_group(w, SIGKILL);
	char reason[256];
	snprintf(reason, sizeof(reason), "worker %d (pid %d) %s", w->slot, (int)w->pid, how);
	snprintf(w->status, sizeof(w->status), "%s", how);
	worker_gone(w, reason, true);
}

void worker_child_exited(pid_t pid, int status)
{
	if (sinks_child_exited(pid, status))
		return;
	for (struct worker *w = sv.workers; w; w = w->next_in_all) {
		if (w->pid == pid && !w->exited) {
			worker_exited(w, status);
			return;
		}
		if (w->ready_pid == pid) {
			ready_command_exited(w, status);
			return;
		}
	}
	/* An orphan of some worker, reaped as the subreaper: see if a drained
	 * worker's lingering group has emptied. */
	bool again = true;
	while (again) {
		again = false;
		for (struct worker *w = sv.workers; w; w = w->next_in_all) {
			if (w->exited && !group_alive(w->pid)) {
				worker_gone(w, NULL, false);
				again = true; /* the list changed */
				break;
			}
		}
	}
}

/* --- restart and scale --------------------------------------------------- */

static void restart_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct slot *s = t->data;
	if (!s->worker && s->index < s->prog->desired && !sv.stopping)
		worker_spawn(s->prog, s->index);
}

void slot_schedule_restart(struct slot *s, double ran)
{
	const struct program_conf *c = s->prog->conf;
	if (ran >= HEALTHY_RUN_SECONDS || s->failures == 0) {
		s->failures = 1;
		s->delay = c->restart_delay;
	} else {
		s->failures++;
		s->delay = s->delay * 2 > c->restart_max_delay ? c->restart_max_delay : s->delay * 2;
	}
	s->restarts++;
	sv.worker_restarts++;
	if (s->failures == CRASH_LOOP_FAILURES) {
		sv.crash_loops++;
		json_t *f = json_pack("{s:s, s:I, s:i}", "program", c->name, "generation",
				      (json_int_t)s->prog->gen->number, "slot", s->index);
		event_emit(LEVEL_ERROR, "crash_loop", f,
			   "slot %d failed %u times in a row; retrying every %gs at most",
			   s->index, s->failures, c->restart_max_delay);
	}
	ev_timer_stop(sv.loop, &s->restart);
	ev_timer_set(&s->restart, s->delay, 0);
	ev_timer_start(sv.loop, &s->restart);
}

bool slot_in_crash_loop(const struct slot *s)
{
	const struct worker *w = s->worker;
	if (s->failures < CRASH_LOOP_FAILURES)
		return false;
	/* Over once a worker in the slot is ready again; should it crash
	 * within HEALTHY_RUN_SECONDS, its failures count on from here. */
	return !(w && w->state == WORKER_READY);
}

static struct slot *slot_new(struct program_run *p, int index)
{
	struct slot *s = xcalloc(1, sizeof(*s));
	s->prog = p;
	s->index = index;
	ev_timer_init(&s->restart, restart_cb, 0, 0);
	s->restart.data = s;
	return s;
}

void program_scale(struct program_run *p, int desired)
{
	if (desired > p->nslots) {
		p->slots = xrealloc(p->slots, (size_t)desired * sizeof(*p->slots));
		for (int i = p->nslots; i < desired; i++)
			p->slots[i] = slot_new(p, i);
		p->nslots = desired;
	}
	int old = p->desired;
	p->desired = desired;
	for (int i = desired; i < old; i++) {
		ev_timer_stop(sv.loop, &p->slots[i]->restart);
		if (p->slots[i]->worker)
			worker_drain(p->slots[i]->worker);
	}
	/* A rolling reload starts its slots itself, as old ones drain. */
	bool spawn_now = p->gen->state == GEN_SERVING ||
			 (p->gen->state == GEN_STARTING && p->conf->reload == RELOAD_ALL_AT_ONCE);
	for (int i = old; spawn_now && i < desired; i++)
		if (!p->slots[i]->worker)
			worker_spawn(p, i);
}

void slot_free(struct slot *s)
{
	ev_timer_stop(sv.loop, &s->restart);
	free(s);
}
