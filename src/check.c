/* check.c: a program's health check: a command run every check-interval
 * while it is wanted, with a timeout; each result goes to the model. */
/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "launch.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One program's check. The timer is the next run while none runs, and
 * the running one's deadline while it runs: one timer, never both. */
struct check_io {
	struct check_io *next;
	struct program_run *prog; /* NULL once stopped: it waits to be reaped */
	pid_t pid;		  /* the running check, or 0 */
	bool timed_out;
	double began; /* monotonic, of the running or last run */
	int out;      /* the read end of its output, or -1 */
	ev_io output;
	char text[160]; /* the start of its output */
	size_t len;
	ev_timer timer;
};

static struct check_io *checks;
static check_changed_fn *changed;

void check_init(check_changed_fn *fn)
{
	changed = fn;
}

static void close_output(struct check_io *c)
{
	if (c->out < 0)
		return;
	ev_io_stop(EV_DEFAULT, &c->output);
	if (close(c->out) < 0)
		syswarn("closing a check's output");
	c->out = -1;
}

/* Keeps the start of the output; the rest is read and dropped, so that a
 * chatty check never blocks on a full pipe. */
static void output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct check_io *c = w->data;
	char buf[4096];
	/* a bounded amount each time: a check that writes as fast as segue
	 * reads cannot keep the loop here */
	for (int reads = 0; reads < 16; reads++) {
		ssize_t n = read(c->out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_output(c);
			return;
		}
		size_t room = sizeof(c->text) - 1 - c->len,
		       take = (size_t)n < room ? (size_t)n : room;
		memcpy(c->text + c->len, buf, take);
		c->len += take;
	}
}

static void arm(struct check_io *c, double after)
{
	ev_timer_stop(EV_DEFAULT, &c->timer);
	ev_timer_set(&c->timer, after > 0 ? after : 0, 0);
	ev_timer_start(EV_DEFAULT, &c->timer);
}

static int open_output(struct check_io *c)
{
	int fds[2];
	/* only segue's end is non-blocking: the check writes as it likes */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if (fd_set_nonblock(fds[0], true) < 0) {
		int saved = errno;
		close(fds[0]);
		close(fds[1]);
		errno = saved;
		return -1;
	}
	c->out = fds[0];
	c->len = 0;
	ev_io_init(&c->output, output_cb, c->out, EV_READ);
	c->output.data = c;
	ev_io_start(EV_DEFAULT, &c->output);
	return fds[1];
}

/* Starts one run as the program's user, in its directory. */
static void run(struct check_io *c)
{
	struct program_run *p = c->prog;
	struct strv env = {0};
	struct spawn_spec spec = {.directory = p->directory, .shell_line = true, .output_fd = -1};
	gid_t *groups = NULL;
	char err[256];
	c->began = now_mono();
	c->timed_out = false;
	char *command = launch_expand(p->conf->check, p, -1);
	launch_check_env(&env, p);
	spec.command = command;
	spec.env = env.v;
	spec.death_signal = SIGKILL;
	pid_t pid = -1;
	if (spawn_lookup_ids(p->conf->user, p->conf->group, &spec, &groups, err, sizeof(err)) ==
	    0) {
		spec.output_fd = open_output(c);
		pid = spec.output_fd < 0 ? -1 : spawn(&spec, err, sizeof(err));
		if (spec.output_fd < 0)
			snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
		else if (close(spec.output_fd) < 0)
			syswarn("closing a check's pipe");
	}
	free(groups);
	free(command);
	strv_free(&env);
	if (pid < 0) {
		close_output(c);
		model_check_result(p, false, err);
		arm(c, p->conf->check_interval);
		changed();
		return;
	}
	c->pid = pid;
	arm(c, p->conf->check_timeout);
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct check_io *c = t->data;
	if (!c->pid) {
		run(c);
		return;
	}
	/* Its result comes when it has been reaped. */
	c->timed_out = true;
	if (kill(-c->pid, SIGKILL) < 0 && errno != ESRCH)
		syswarn("killing check %d", (int)c->pid);
}

/* Why a run failed, in words, from its status and the first line of what
 * it printed. */
static void describe(const struct check_io *c, int status, char *buf, size_t len)
{
	char text[sizeof(c->text)];
	memcpy(text, c->text, c->len);
	text[c->len] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	const char *sep = *text ? ": " : "";
	if (c->timed_out)
		snprintf(buf, len, "check timed out after %gs%s%s", c->prog->conf->check_timeout,
			 sep, text);
	else if (WIFEXITED(status))
		snprintf(buf, len, "check exited with status %d%s%s", WEXITSTATUS(status), sep,
			 text);
	else
		snprintf(buf, len, "check killed by signal %d%s%s", WTERMSIG(status), sep, text);
}

static void unlink_check(struct check_io *c)
{
	for (struct check_io **pp = &checks; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ev_timer_stop(EV_DEFAULT, &c->timer);
	close_output(c);
	free(c);
}

bool check_reaped(pid_t pid, int status)
{
	struct check_io *c = checks;
	while (c && c->pid != pid)
		c = c->next;
	if (!c)
		return false;
	c->pid = 0;
	if (c->out >= 0)
		output_cb(EV_DEFAULT, &c->output, EV_READ); /* what is left in the pipe */
	close_output(c);
	if (!c->prog) {
		unlink_check(c);
		return true;
	}
	char why[512];
	bool ok = !c->timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	describe(c, status, why, sizeof(why));
	model_check_result(c->prog, ok, why);
	arm(c, c->began + c->prog->conf->check_interval - now_mono());
	changed();
	return true;
}

static void start(struct program_run *p)
{
	struct check_io *c = xcalloc(1, sizeof(*c));
	c->prog = p;
	c->out = -1;
	ev_init(&c->timer, timer_cb);
	c->timer.data = c;
	c->next = checks;
	checks = c;
	model_check_begin(p);
	model_check_set_io(p, c);
	run(c);
}

/* Detaches the check from its program; a running one is killed and
 * forgotten when it has been reaped. */
static void stop(struct check_io *c)
{
	model_check_set_io(c->prog, NULL);
	c->prog = NULL;
	if (!c->pid) {
		unlink_check(c);
		return;
	}
	ev_timer_stop(EV_DEFAULT, &c->timer);
	if (kill(-c->pid, SIGKILL) < 0 && errno != ESRCH)
		syswarn("killing check %d", (int)c->pid);
}

void check_settle(check_wanted_fn *wanted)
{
	for (struct check_io *c = checks, *next; c; c = next) {
		next = c->next;
		if (c->prog && !wanted(c->prog))
			stop(c);
	}
	for (struct generation *g = model->generations; g; g = g->next)
		for (size_t i = 0; i < g->nprograms; i++) {
			struct program_run *p = &g->programs[i];
			if (*p->conf->check && !p->check.io && wanted(p))
				start(p);
		}
}

void check_forget(void)
{
	while (checks) {
		if (checks->prog)
			model_check_set_io(checks->prog, NULL);
		if (checks->pid && kill(-checks->pid, SIGKILL) < 0 && errno != ESRCH)
			syswarn("killing check %d", (int)checks->pid);
		unlink_check(checks);
	}
}
