/* sinks.c: where reload and crash events go besides the log: a hook
 * program (chat notifications) and DogStatsD. */
/* SPDX-License-Identifier: MIT */
#include "sinks.h"
#include "log.h"
#include "spawn.h"
#include "model.h"
#include "env.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A running hook, and its deadline: the timer runs only while the hook
 * does, so an idle segue has no timer here. */
struct hook {
	pid_t pid;	/* 0: the slot is free */
	bool killed;	/* by its deadline: its exit status says nothing new */
	char event[32]; /* what it was run for */
	char *program;	/* "" for events of no program */
	long long generation;
	double timeout; /* hook-timeout when it started */
	ev_timer deadline;
};

static struct hook hooks[SINKS_MAX_HOOKS];
static int statsd_fd = -1;
static char *statsd_target; /* the address statsd_fd is connected to */

/* Reload and crash events: what a deploy channel or a dashboard wants. */
static bool wanted(const char *name, json_t *event)
{
	static const char *const names[] = {
	    "reload_succeeded", "reload_failed", "config_rejected", "crash_loop",
	    "canary_started",	"canary_passed", "canary_failed",   "watch_started",
	    "watch_passed",	"watch_ended",	 "watch_failed",    "auto_rollback",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	/* a worker that exited unasked is a crash */
	const char *level = json_string_value(json_object_get(event, "level"));
	return strcmp(name, "worker_exited") == 0 && level && strcmp(level, "warn") == 0;
}

static const char *field(json_t *event, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(event, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return "";
}

/* --- hook ---------------------------------------------------------------- */

static int free_hook_slot(void)
{
	for (int i = 0; i < SINKS_MAX_HOOKS; i++)
		if (hooks[i].pid == 0)
			return i;
	return -1;
}

/* The hook outlived hook-timeout: its whole process group is killed, so
 * that a hung hook (and whatever it started) frees its slot. */
static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct hook *h = (struct hook *)((char *)t - offsetof(struct hook, deadline));

	if (kill(-h->pid, SIGKILL) < 0 && errno != ESRCH)
		syswarn("hook (pid %d): kill", (int)h->pid);
	h->killed = true;
	json_t *f = json_pack("{s:i, s:s}", "pid", (int)h->pid, "hook_event", h->event);
	/* reload events name no program, config_rejected no generation */
	if (*h->program != '\0')
		json_object_set_new(f, "program", json_string(h->program));
	if (h->generation > 0)
		json_object_set_new(f, "generation", json_integer(h->generation));
	event_emit(LEVEL_WARN, "hook_timeout", f,
		   "hook for %s (pid %d) still running after hook-timeout (%gs): killed", h->event,
		   (int)h->pid, h->timeout);
}

/* Remembers what the hook runs for, and starts its deadline. */
static void hook_started(struct hook *h, pid_t pid, const char *name, json_t *event)
{
	char buf[32];
	json_t *g = json_object_get(event, "generation");

	h->pid = pid;
	h->killed = false;
	snprintf(h->event, sizeof(h->event), "%s", name);
	free(h->program);
	h->program = xstrdup(field(event, "program", buf, sizeof(buf)));
	h->generation = json_is_integer(g) ? (long long)json_integer_value(g) : 0;
	h->timeout = model->config->hook_timeout;
	ev_timer_init(&h->deadline, deadline_cb, h->timeout, 0);
	ev_timer_start(EV_DEFAULT, &h->deadline);
}

static void run_hook(const char *hook, const char *name, json_t *event)
{
	int slot = free_hook_slot();
	if (slot < 0) {
		warn("hook %s: %d hooks still running, %s not delivered", hook, SINKS_MAX_HOOKS,
		     name);
		return;
	}
	char gen[32], prog[32], msg[32], rel[32];
	struct strv env = {0};
	env_base(&env, NULL, 0);
	strv_push(&env, xasprintf("SEGUE_EVENT=%s", name));
	strv_push(&env, xasprintf("SEGUE_PROGRAM=%s", field(event, "program", prog, sizeof(prog))));
	strv_push(&env,
		  xasprintf("SEGUE_GENERATION=%s", field(event, "generation", gen, sizeof(gen))));
	strv_push(&env, xasprintf("SEGUE_MESSAGE=%s", field(event, "msg", msg, sizeof(msg))));
	strv_push(&env, xasprintf("SEGUE_RELEASE=%s", field(event, "release", rel, sizeof(rel))));
	/* The path is the whole command, whatever characters it holds. */
	strv_push(&env, xasprintf("SEGUE_HOOK_PATH=%s", hook));
	struct spawn_spec spec = {.command = "\"$SEGUE_HOOK_PATH\"", .env = env.v, .output_fd = -1};
	char err[256];
	pid_t p = spawn(&spec, err, sizeof(err));
	if (p < 0)
		warn("hook %s: %s", hook, err);
	else
		hook_started(&hooks[slot], p, name, event);
	strv_free(&env);
}

bool sinks_child_exited(pid_t pid, int status)
{
	for (int i = 0; i < SINKS_MAX_HOOKS; i++) {
		struct hook *h = &hooks[i];

		if (h->pid != pid)
			continue;
		ev_timer_stop(EV_DEFAULT, &h->deadline);
		h->pid = 0;
		free(h->program);
		h->program = NULL;
		if (!h->killed && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			warn("hook (pid %d) failed with status 0x%x", (int)pid, status);
		return true;
	}
	return false;
}

/* --- DogStatsD ----------------------------------------------------------- */

static int statsd_socket(const char *target)
{
	if (statsd_target && strcmp(statsd_target, target) == 0)
		return statsd_fd;
	if (statsd_fd >= 0)
		close(statsd_fd);
	free(statsd_target);
	statsd_target = xstrdup(target);
	struct address a;
	char err[128];
	statsd_fd = -1;
	if (parse_address(target, &a, err, sizeof(err)) < 0 || a.kind != ADDR_TCP) {
		warn("statsd %s: %s", target, err);
		return -1;
	}
	statsd_fd = socket(a.sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (statsd_fd >= 0 && connect(statsd_fd, (struct sockaddr *)&a.sa, a.salen) < 0) {
		syswarn("statsd %s", target);
		close(statsd_fd);
		statsd_fd = -1;
	}
	return statsd_fd;
}

static const char *alert_type(const char *name)
{
	static const char *const good[] = {"reload_succeeded", "canary_passed", "watch_passed"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (strcmp(name, good[i]) == 0)
			return "success";
	if (strcmp(name, "canary_started") == 0 || strcmp(name, "watch_started") == 0)
		return "info";
	if (strcmp(name, "watch_ended") == 0)
		return "warning";
	if (strcmp(name, "worker_exited") == 0)
		return "warning";
	return "error";
}

/* A DogStatsD tag value: no separator of the datagram in it. */
static char *tag_value(const char *v)
{
	char *t = xstrdup(*v ? v : "none");
	for (char *p = t; *p; p++)
		if (*p == ',' || *p == '|' || *p == '#' || *p == '\n' || *p == ' ')
			*p = '_';
	return t;
}

/* One DogStatsD event (_e{...}) and, for reloads, a counter and a timer.
 * UDP: a lost datagram is fine, a blocked segue is not. */
static void send_statsd(const char *target, const char *name, json_t *event)
{
	int fd = statsd_socket(target);
	if (fd < 0)
		return;
	char pbuf[32], gbuf[32], rbuf[32];
	const char *program = field(event, "program", pbuf, sizeof(pbuf));
	const char *msg = json_string_value(json_object_get(event, "msg"));
	char *title = xasprintf("segue %s", name);
	char *text = xstrdup(msg ? msg : "");
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '|')
			*p = ' ';
	char *release = tag_value(field(event, "release", rbuf, sizeof(rbuf)));
	char *dgram = xasprintf(
	    "_e{%zu,%zu}:%s|%s|t:%s|s:segue|#event:%s,program:%s,generation:%s,release:%s",
	    strlen(title), strlen(text), title, text, alert_type(name), name,
	    *program ? program : "none", field(event, "generation", gbuf, sizeof(gbuf)), release);
	if (send(fd, dgram, strlen(dgram), MSG_DONTWAIT) < 0 && errno != EAGAIN)
		debug("statsd: %s", strerror(errno));
	free(dgram);
	free(release);
	if (strncmp(name, "reload_", 7) == 0) {
		json_t *ms = json_object_get(event, "duration_ms");
		dgram =
		    json_is_integer(ms)
			? xasprintf(
			      "segue.reloads:1|c|#result:succeeded\nsegue.reload.duration:%lld|ms",
			      (long long)json_integer_value(ms))
			: xasprintf("segue.reloads:1|c|#result:failed");
		if (send(fd, dgram, strlen(dgram), MSG_DONTWAIT) < 0 && errno != EAGAIN)
			debug("statsd: %s", strerror(errno));
		free(dgram);
	}
	free(title);
	free(text);
}

static void on_event(const char *name, json_t *event, void *data)
{
	const struct config *c = model->config;
	if (!c || !wanted(name, event))
		return;
	if (c->hook && *c->hook)
		run_hook(c->hook, name, event);
	if (c->statsd && *c->statsd)
		send_statsd(c->statsd, name, event);
}

void sinks_start(void)
{
	event_subscribe(on_event, NULL);
}

void sinks_stop(void)
{
	event_unsubscribe(on_event, NULL);
	for (int i = 0; i < SINKS_MAX_HOOKS; i++) {
		ev_timer_stop(EV_DEFAULT, &hooks[i].deadline);
		free(hooks[i].program);
		hooks[i].program = NULL;
	}
	if (statsd_fd >= 0)
		close(statsd_fd);
	statsd_fd = -1;
	free(statsd_target);
	statsd_target = NULL;
}
