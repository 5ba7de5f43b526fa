/* worker.c: the process side of a worker: spawn, readiness, signals,
 * notify datagrams, captured output and deadlines, driven by the
 * lifecycle table. */
/* SPDX-License-Identifier: MIT */
#include "worker.h"
#include "launch.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_EXEC_INTERVAL 0.25
#define OUTPUT_BUFFER	    8192

/* What a worker holds besides its place in the model. */
struct worker_io {
	struct worker *w;
	ev_timer deadline; /* the state's deadline */
	ev_timer probe;	   /* delay: the delay; exec: the next ready-command */
	pid_t probe_pid;   /* a running ready-command */
	int notify_fd;
	char notify_path[108];
	ev_io notify_io;
	double notify_warned;
	/* Resolved once at spawn: notify credentials, ready-command. */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	int exit_status;
	int output_fd;
	ev_io output_io;
	char *output;
	size_t output_len;
};

/* The model keeps a worker's io opaque: it is this file's alone. */
static inline struct worker_io *IO(const struct worker *w)
{
	return w->io;
}

static worker_changed_fn *changed;
static unsigned spawn_budget;
static double budget_granted; /* monotonic */
#define SPAWN_PASS_SECONDS 0.02

void worker_init(worker_changed_fn *fn)
{
	changed = fn;
}

static json_t *fields(const struct worker *w)
{
	const char *release = w->prog->release && *w->prog->release ? w->prog->release : NULL;
	return json_pack("{s:s, s:I, s:i, s:i, s:s*}", "program", w->prog->conf->name, "generation",
			 (json_int_t)w->prog->gen->number, "slot", w->slot, "pid", (int)w->pid,
			 "release", release);
}

static void arm(ev_timer *t, double deadline)
{
	ev_timer_stop(EV_DEFAULT, t);
	if (deadline <= 0)
		return;
	/* libev counts from the loop's idea of now, as old as this pass:
	 * spawning many workers in one pass takes real time. */
	ev_now_update(EV_DEFAULT);
	double after = deadline - now_mono();
	ev_timer_set(t, after > 0 ? after : 0, 0);
	ev_timer_start(EV_DEFAULT, t);
}

static void set_state(struct worker *w, enum worker_state s, double deadline)
{
	model_worker_set_state(w, s, deadline, now_wall());
	arm(&IO(w)->deadline, deadline);
}

static void signal_group(const struct worker *w, int sig)
{
	if (w->pid > 0 && kill(-w->pid, sig) < 0 && errno != ESRCH)
		syswarn("signalling worker %d", (int)w->pid);
}

static bool group_alive(pid_t pgid)
{
	return pgid > 0 && kill(-pgid, 0) == 0;
}

/* --- output capture ------------------------------------------------------ */

static void emit_output(struct worker *w, const char *line, size_t len)
{
	event_emit(LEVEL_INFO, "output", fields(w), "%.*s", (int)len, line);
}

static void flush_output_lines(struct worker *w, bool all)
{
	struct worker_io *io = IO(w);
	size_t start = 0;
	for (size_t i = 0; i < io->output_len; i++) {
		if (io->output[i] == '\n') {
			emit_output(w, io->output + start, i - start);
			start = i + 1;
		}
	}
	if ((all || io->output_len - start >= OUTPUT_BUFFER / 2) && start < io->output_len) {
		emit_output(w, io->output + start, io->output_len - start);
		start = io->output_len;
	}
	memmove(io->output, io->output + start, io->output_len - start);
	io->output_len -= start;
}

static void close_output(struct worker *w)
{
	struct worker_io *io = IO(w);
	if (io->output_fd < 0)
		return;
	if (io->output)
		flush_output_lines(w, true);
	ev_io_stop(EV_DEFAULT, &io->output_io);
	if (close(io->output_fd) < 0)
		syswarn("worker %d: closing its output pipe", (int)w->pid);
	io->output_fd = -1;
	free(io->output);
	io->output = NULL;
}

static void output_cb(struct ev_loop *loop, ev_io *watcher, int revents)
{
	struct worker *w = watcher->data;
	struct worker_io *io = IO(w);
	if (!io->output)
		io->output = xmalloc(OUTPUT_BUFFER);
	ssize_t n =
	    read(io->output_fd, io->output + io->output_len, OUTPUT_BUFFER - io->output_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_output(w);
		return;
	}
	io->output_len += (size_t)n;
	flush_output_lines(w, false);
}

static int open_output(struct worker *w, int *write_end)
{
	*write_end = -1;
	if (w->prog->conf->stdout_mode != STDOUT_CAPTURE)
		return 0;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0 || fd_set_nonblock(fds[0], true) < 0)
		return -1;
	IO(w)->output_fd = fds[0];
	*write_end = fds[1];
	ev_io_init(&IO(w)->output_io, output_cb, fds[0], EV_READ);
	IO(w)->output_io.data = w;
	ev_io_start(EV_DEFAULT, &IO(w)->output_io);
	return 0;
}

/* --- the end of a worker ------------------------------------------------- */

static void kill_probe(struct worker_io *io)
{
	ev_timer_stop(EV_DEFAULT, &io->probe);
	if (io->probe_pid > 0 && kill(-io->probe_pid, SIGKILL) < 0 && errno != ESRCH)
		syswarn("stopping a ready-command (pid %d)", (int)io->probe_pid);
	io->probe_pid = 0; /* reaped as any orphan */
}

static void free_worker(struct worker *w)
{
	struct worker_io *io = IO(w);
	ev_timer_stop(EV_DEFAULT, &io->deadline);
	kill_probe(io);
	if (io->notify_fd >= 0) {
		ev_io_stop(EV_DEFAULT, &io->notify_io);
		notify_close(io->notify_fd, io->notify_path);
	}
	close_output(w);
	free(io->groups);
	free(io);
	if (w->slot < w->prog->nslots && !w->prog->slots[w->slot]->worker)
		model_slot_exited(w->prog->slots[w->slot], now_mono());
	model_worker_set_io(w, NULL);
	model_worker_free(w);
}

/* The worker leaves its slot; failure says why when nobody asked. */
static void vacate(struct worker *w, const char *failure)
{
	struct slot *s = w->prog->slots[w->slot];
	if (s->worker != w)
		return;
	double now = now_mono();
	if (!model_slot_vacate(s, failure, now - w->started, now))
		return;
	const struct program_conf *c = w->prog->conf;
	json_t *f = json_pack("{s:s, s:I, s:i}", "program", c->name, "generation",
			      (json_int_t)w->prog->gen->number, "slot", w->slot);
	event_emit(LEVEL_ERROR, "crash_loop", f,
		   "slot %d failed %u times in a row; retrying every %gs at most", w->slot,
		   s->failures, c->restart_max_delay);
}

/* The same for a worker that failed but still runs: its slot waits for
 * its end before the restart delay begins. */
static void vacate_alive(struct worker *w, const char *failure)
{
	struct slot *s = w->prog->slots[w->slot];
	bool held = s->worker == w;
	vacate(w, failure);
	if (held)
		model_slot_wait_exit(s);
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %s%s", signal_name(WTERMSIG(status)),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
}

/* --- the actions of the lifecycle table ---------------------------------- */

static void act_ready(struct worker *w)
{
	kill_probe(IO(w));
	set_state(w, WORKER_READY, 0);
	event_emit(LEVEL_INFO, "worker_ready", fields(w), "ready after %.0f ms",
		   (now_mono() - w->started) * 1000.0);
}

static void send_drain_signal(const struct worker *w)
{
	const struct program_conf *c = w->prog->conf;
	if (c->kill_mode == KILL_GROUP)
		signal_group(w, c->drain_signal);
	else if (kill(w->pid, c->drain_signal) < 0 && errno != ESRCH)
		/* Only the worker: it stops its own children its own way. */
		syswarn("signalling worker %d", (int)w->pid);
}

static void act_drain(struct worker *w)
{
	vacate(w, NULL);
	kill_probe(IO(w));
	send_drain_signal(w);
	set_state(w, WORKER_DRAINING, now_mono() + w->prog->conf->drain_timeout);
}

static void act_self_stop(struct worker *w)
{
	char why[200];
	snprintf(why, sizeof(why), "worker %d (pid %d) sent STOPPING=1", w->slot, (int)w->pid);
	vacate_alive(w, why);
	kill_probe(IO(w));
	set_state(w, WORKER_DRAINING, now_mono() + w->prog->conf->drain_timeout);
	event_emit(LEVEL_WARN, "worker_stopping", fields(w), "%s", why);
}

static void act_timed_out(struct worker *w)
{
	char why[200];
	snprintf(why, sizeof(why), "worker %d (pid %d) not ready within %gs", w->slot, (int)w->pid,
		 w->prog->conf->ready_timeout);
	model_worker_set_status(w, why);
	event_emit(LEVEL_WARN, "worker_timeout", fields(w), "%s", why);
	vacate_alive(w, why);
	kill_probe(IO(w));
	/* Not ready is not idle: it may have taken connections already. */
	send_drain_signal(w);
	set_state(w, WORKER_DRAINING, now_mono() + w->prog->conf->drain_timeout);
}

static void act_crashed(struct worker *w)
{
	char how[128], why[256];
	describe_exit(IO(w)->exit_status, how, sizeof(how));
	snprintf(why, sizeof(why), "worker %d (pid %d) %s", w->slot, (int)w->pid, how);
	model_worker_set_status(w, how);
	vacate(w, why);
	/* Whatever it left in its group goes with it. */
	signal_group(w, SIGKILL);
	free_worker(w);
}

static void act_kill(struct worker *w)
{
	signal_group(w, SIGKILL);
	set_state(w, w->state, 0);
	event_emit(LEVEL_WARN, "worker_killed", fields(w),
		   "still alive after drain-timeout: killed its process group");
}

static void act_not_started(struct worker *w)
{
	event_emit(LEVEL_ERROR, "worker_failed", fields(w), "%s", w->status);
	vacate(w, w->status);
	free_worker(w);
}

static void dispatch(struct worker *w, enum worker_event e)
{
	struct worker_transition t = worker_step(w->state, e);
	switch (t.action) {
	case WACT_NONE:
		break;
	case WACT_READY:
		act_ready(w);
		break;
	case WACT_DRAIN:
		act_drain(w);
		break;
	case WACT_SELF_STOP:
		act_self_stop(w);
		break;
	case WACT_TIMED_OUT:
		act_timed_out(w);
		break;
	case WACT_CRASHED:
		act_crashed(w);
		return;
	case WACT_LINGER:
		set_state(w, WORKER_LINGERING, w->deadline);
		break;
	case WACT_KILL:
		act_kill(w);
		break;
	case WACT_NOT_STARTED:
		act_not_started(w);
		return;
	case WACT_EXITED:
	case WACT_FREE:
		free_worker(w);
		return;
	case WACT_NACTIONS:
		break;
	}
	if (w->state != t.next)
		set_state(w, t.next, w->deadline);
}

void worker_event(struct worker *w, enum worker_event e)
{
	dispatch(w, e);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	dispatch(w, w->state == WORKER_STARTING ? WEV_READY_TIMEOUT : WEV_DRAIN_TIMEOUT);
	changed();
}

/* --- readiness ----------------------------------------------------------- */

static void run_ready_command(struct worker *w)
{
	struct worker_io *io = IO(w);
	struct strv env = {0};
	launch_helper_env(&env, w->prog, w->slot, w->pid);
	struct spawn_spec spec = {
	    .command = w->prog->conf->ready_command,
	    .directory = w->prog->directory,
	    .env = env.v,
	    .output_fd = -1,
	    .shell_line = true,
	    .set_ids = io->set_ids,
	    .uid = io->uid,
	    .gid = io->gid,
	    .groups = io->groups,
	    .ngroups = io->ngroups,
	    .death_signal = SIGKILL,
	};
	char err[256];
	io->probe_pid = spawn(&spec, err, sizeof(err));
	if (io->probe_pid < 0) {
		io->probe_pid = 0;
		warn("ready-command for worker %d: %s", (int)w->pid, err);
		arm(&io->probe, now_mono() + READY_EXEC_INTERVAL);
	}
	strv_free(&env);
}

static void probe_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	if (w->prog->conf->ready == READY_DELAY) {
		dispatch(w, WEV_READY);
		changed();
	} else if (!IO(w)->probe_pid) {
		run_ready_command(w);
	}
}

/* A ready-command exited: ready on 0, else try again in a moment. */
static void ready_command_exited(struct worker *w, int status)
{
	IO(w)->probe_pid = 0;
	if (w->state != WORKER_STARTING)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		dispatch(w, WEV_READY);
	else
		arm(&IO(w)->probe, now_mono() + READY_EXEC_INTERVAL);
}

static void start_readiness(struct worker *w)
{
	const struct program_conf *c = w->prog->conf;
	double now = now_mono();
	set_state(w, WORKER_STARTING, now + c->ready_timeout);
	if (c->ready == READY_DELAY)
		arm(&IO(w)->probe, now + c->ready_delay);
	else if (c->ready == READY_EXEC)
		arm(&IO(w)->probe, now); /* at once: arm() starts a due timer */
}

/* --- notify datagrams ---------------------------------------------------- */

/* At most one line a second per worker: a flood of garbage must not
 * flood the log too. */
static void __attribute__((format(printf, 2, 3)))
notify_ignored(struct worker *w, const char *fmt, ...)
{
	double now = now_mono();
	if (now - IO(w)->notify_warned < 1.0)
		return;
	IO(w)->notify_warned = now;
	char why[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	event_emit(LEVEL_WARN, "notify_ignored", fields(w), "%s", why);
}

/* Root, segue's own user and the worker's user may notify. */
static bool sender_allowed(const struct worker_io *io, const struct ucred *cred)
{
	return cred->uid == 0 || cred->uid == geteuid() || (io->set_ids && cred->uid == io->uid);
}

static void handle_datagram(struct worker *w, const char *buf, size_t len, const struct ucred *cred)
{
	struct notify_msg m;
	if (!sender_allowed(IO(w), cred)) {
		notify_ignored(w, "datagram from uid %ld, which may not notify", (long)cred->uid);
		return;
	}
	if (notify_parse(buf, len, &m) < 0) {
		notify_ignored(w, "malformed datagram of %zu bytes", len);
		return;
	}
	if (m.has_status)
		model_worker_set_status(w, m.status);
	if (m.ready && w->prog->conf->ready == READY_NOTIFY)
		dispatch(w, WEV_READY);
	if (m.stopping)
		dispatch(w, WEV_STOPPING);
}

static void notify_cb(struct ev_loop *loop, ev_io *watcher, int revents)
{
	struct worker *w = watcher->data;
	char buf[NOTIFY_MAX_DATAGRAM];
	/* A bounded batch: a flood cannot starve the rest of the loop. A
	 * worker whose datagram ended it (STOPPING=1 keeps it) stays. */
	for (int i = 0; i < 64; i++) {
		size_t len;
		struct ucred cred;
		int r = notify_receive(IO(w)->notify_fd, buf, sizeof(buf), &len, &cred);
		if (r == 0)
			break;
		if (r < 0)
			notify_ignored(w, "datagram over %d bytes or without credentials",
				       NOTIFY_MAX_DATAGRAM);
		else
			handle_datagram(w, buf, len, &cred);
	}
	changed();
}

/* --- spawning ------------------------------------------------------------ */

static int open_notify(struct worker *w, char *err, size_t len)
{
	struct worker_io *io = IO(w);
	io->notify_fd = notify_open(io->set_ids ? io->uid : geteuid(), io->notify_path,
				    sizeof(io->notify_path));
	if (io->notify_fd < 0) {
		snprintf(err, len, "notify socket: %s", strerror(errno));
		return -1;
	}
	ev_io_init(&io->notify_io, notify_cb, io->notify_fd, EV_READ);
	io->notify_io.data = w;
	ev_io_start(EV_DEFAULT, &io->notify_io);
	return 0;
}

static void keep_ids(struct worker_io *io, struct launch *l)
{
	io->set_ids = l->spec.set_ids;
	io->uid = l->spec.uid;
	io->gid = l->spec.gid;
	io->groups = l->groups;
	io->ngroups = l->spec.ngroups;
	l->groups = NULL;
}

static pid_t start_process(struct worker *w, char *err, size_t len)
{
	struct launch l;
	pid_t pid = -1;
	int write_end = -1;
	if (launch_resolve(&l, w->prog, err, len) == 0) {
		keep_ids(IO(w), &l);
		l.spec.groups = IO(w)->groups;
		if (open_notify(w, err, len) == 0 && open_output(w, &write_end) < 0)
			snprintf(err, len, "output pipe: %s", strerror(errno));
		else if (IO(w)->notify_fd >= 0) {
			launch_build(&l, w->prog, w->slot, IO(w)->notify_path);
			l.spec.output_fd = write_end; /* -1: segue's own stdout and stderr */
			pid = spawn(&l.spec, err, len);
		}
	}
	if (write_end >= 0 && close(write_end) < 0)
		syswarn("closing a worker's output pipe");
	launch_free(&l);
	return pid;
}

static struct worker_io *io_new(struct worker *w)
{
	struct worker_io *io = xcalloc(1, sizeof(*io));
	io->w = w;
	io->notify_fd = -1;
	io->output_fd = -1;
	ev_timer_init(&io->deadline, deadline_cb, 0, 0);
	io->deadline.data = w;
	ev_timer_init(&io->probe, probe_cb, 0, 0);
	io->probe.data = w;
	return io;
}

bool worker_spawn(struct program_run *p, int slot)
{
	if (spawn_budget > 0)
		spawn_budget--;
	struct worker *w = model_worker_new(p, slot, now_mono(), now_wall());
	model_worker_set_io(w, io_new(w));
	char err[200];
	pid_t pid = start_process(w, err, sizeof(err));
	if (pid < 0) {
		char why[sizeof(w->status)];
		snprintf(why, sizeof(why), "worker %d cannot start: %s", slot, err);
		model_worker_set_status(w, why);
		dispatch(w, WEV_SPAWN_FAILED);
		return false;
	}
	model_worker_set_pid(w, pid);
	event_emit(LEVEL_INFO, "worker_spawned", fields(w), "%s", p->directory ? p->directory : "");
	start_readiness(w);
	return true;
}

/* --- exits --------------------------------------------------------------- */

static void leader_exited(struct worker *w, int status)
{
	char how[128];
	describe_exit(status, how, sizeof(how));
	bool asked = w->state == WORKER_DRAINING;
	json_t *f = fields(w);
	if (WIFEXITED(status))
		json_object_set_new(f, "status", json_integer(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status))
		json_object_set_new(f, "signal", json_string(signal_name(WTERMSIG(status))));
	event_emit(asked ? LEVEL_INFO : LEVEL_WARN, "worker_exited", f, "%s after %.1fs", how,
		   now_mono() - w->started);
	IO(w)->exit_status = status;
	/* Children left in a drained worker's group still hold the sockets:
	 * the drain deadline goes on and KILLs them. */
	dispatch(w, asked && group_alive(w->pid) ? WEV_EXITED_LINGER : WEV_EXITED);
}

bool worker_reaped(pid_t pid, int status)
{
	for (struct worker *w = model->workers; w; w = w->next) {
		if (w->pid == pid && w->state != WORKER_LINGERING) {
			leader_exited(w, status);
			return true;
		}
		if (IO(w)->probe_pid == pid) {
			ready_command_exited(w, status);
			return true;
		}
	}
	return false;
}

void worker_check_lingering(void)
{
	bool again = true;
	while (again) {
		again = false;
		for (struct worker *w = model->workers; w; w = w->next) {
			if (w->state == WORKER_LINGERING && !group_alive(w->pid)) {
				dispatch(w, WEV_GROUP_EMPTY);
				again = true; /* the list changed */
				break;
			}
		}
	}
}

void worker_forget(struct worker *w)
{
	free_worker(w);
}

void worker_drain_generation(const struct generation *g)
{
	/* WEV_DRAIN frees no worker: one walk of the list is safe. */
	for (struct worker *w = model->workers; w; w = w->next)
		if (w->prog->gen == g && (w->state == WORKER_STARTING || w->state == WORKER_READY))
			dispatch(w, WEV_DRAIN);
}

void worker_grant_spawns(unsigned n)
{
	spawn_budget = n;
	budget_granted = now_mono();
}

/* A pass spawns at most its budget, and stops early once it has taken
 * SPAWN_PASS_SECONDS: on a loaded machine a child may wait long for the
 * CPU before its exec, and segue waits for that exec. */
bool worker_can_spawn(void)
{
	return spawn_budget > 0 && now_mono() - budget_granted < SPAWN_PASS_SECONDS;
}

/* --- across an upgrade in place ------------------------------------------ */

static json_t *io_save(const struct worker *w)
{
	const struct worker_io *io = IO(w);
	json_t *groups = json_array();
	for (size_t i = 0; i < io->ngroups; i++)
		json_array_append_new(groups, json_integer(io->groups[i]));
	state_keep_fd(io->notify_fd);
	state_keep_fd(io->output_fd);
	return json_pack("{s:i, s:i, s:s, s:i, s:o, s:i, s:b, s:I, s:I, s:o, s:f}", "pid",
			 (int)w->pid, "notify_fd", io->notify_fd, "notify_path", io->notify_path,
			 "output_fd", io->output_fd, "output",
			 state_hex(io->output ? io->output : "", io->output_len), "probe_pid",
			 (int)io->probe_pid, "set_ids", io->set_ids, "uid", (json_int_t)io->uid,
			 "gid", (json_int_t)io->gid, "groups", groups, "probe_due",
			 ev_is_active(&io->probe)
			     ? now_mono() + ev_timer_remaining(EV_DEFAULT, (ev_timer *)&io->probe)
			     : 0.0);
}

json_t *worker_save(void)
{
	json_t *a = json_array();
	for (const struct worker *w = model->workers; w; w = w->next)
		json_array_append_new(a, io_save(w));
	return a;
}

static int fd_of(json_t *j, const char *key)
{
	int fd = (int)json_integer_value(json_object_get(j, key));
	return fd >= 0 && state_kept_fd(fd) ? fd : -1;
}

static void watch_io(struct worker *w, json_t *j)
{
	struct worker_io *io = IO(w);
	if ((io->notify_fd = fd_of(j, "notify_fd")) >= 0) {
		snprintf(io->notify_path, sizeof(io->notify_path), "%s",
			 json_string_value(json_object_get(j, "notify_path")));
		ev_io_init(&io->notify_io, notify_cb, io->notify_fd, EV_READ);
		io->notify_io.data = w;
		ev_io_start(EV_DEFAULT, &io->notify_io);
	}
	if ((io->output_fd = fd_of(j, "output_fd")) >= 0) {
		ev_io_init(&io->output_io, output_cb, io->output_fd, EV_READ);
		io->output_io.data = w;
		ev_io_start(EV_DEFAULT, &io->output_io);
		io->output = xmalloc(OUTPUT_BUFFER);
		char *bytes;
		size_t n;
		if (state_unhex(json_object_get(j, "output"), &bytes, &n) == 0) {
			memcpy(io->output, bytes, n < OUTPUT_BUFFER ? n : OUTPUT_BUFFER);
			io->output_len = n < OUTPUT_BUFFER ? n : OUTPUT_BUFFER;
			free(bytes);
		}
	}
}

static void ids_restore(struct worker_io *io, json_t *j)
{
	json_t *groups = json_object_get(j, "groups");
	io->set_ids = json_is_true(json_object_get(j, "set_ids"));
	io->uid = (uid_t)json_integer_value(json_object_get(j, "uid"));
	io->gid = (gid_t)json_integer_value(json_object_get(j, "gid"));
	io->ngroups = json_array_size(groups);
	io->groups = xcalloc(io->ngroups + 1, sizeof(gid_t));
	for (size_t i = 0; i < io->ngroups; i++)
		io->groups[i] = (gid_t)json_integer_value(json_array_get(groups, i));
}

int worker_restore(json_t *a, char *err, size_t len)
{
	size_t i;
	json_t *j;
	json_array_foreach (a, i, j) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
		struct worker *w = model_worker_by_pid(pid);
		if (!w) {
			snprintf(err, len, "state: no worker %d in the model", (int)pid);
			return -1;
		}
		model_worker_set_io(w, io_new(w));
		ids_restore(IO(w), j);
		watch_io(w, j);
		IO(w)->probe_pid = (pid_t)json_integer_value(json_object_get(j, "probe_pid"));
		/* every deadline keeps its time: arm() counts from now */
		arm(&IO(w)->deadline, w->deadline);
		arm(&IO(w)->probe, json_number_value(json_object_get(j, "probe_due")));
	}
	return 0;
}
