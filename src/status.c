/* status.c: what the control socket reports: status, health and metrics. */
/* SPDX-License-Identifier: MIT */
#include "status.h"
#include "log.h"
#include "reload.h"
#include "model.h"
#include "steer.h"
#include "utf8.h"
#include "util.h"
#include "version.h"
#include "watch.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static json_t *worker_json(const struct worker *w)
{
	char since[40];
	format_timestamp(w->since, since, sizeof(since));
	return json_pack("{s:i, s:i, s:I, s:s, s:s, s:f, s:I, s:o}", "pid", (int)w->pid, "slot",
			 w->slot, "generation", (json_int_t)w->prog->gen->number, "state",
			 worker_state_name(w->state), "since", since, "age_s",
			 now_mono() - w->started, "restarts", (json_int_t)w->restarts, "status",
			 json_string_utf8(w->status));
}

/* A steered socket is one generation's: which, and its accept queue. */
static void steered_json(json_t *o, const struct held_socket *h)
{
	unsigned q;
	if (h->group_index < 0)
		return;
	json_object_set_new(o, "handover", json_string("steer"));
	json_object_set_new(o, "generation", json_integer(steer_generation_of(h)));
	json_object_set_new(o, "group_index", json_integer(h->group_index));
	int w = steer_weight_of(h); /* a weighted canary's share, or the rest */
	if (w >= 0)
		json_object_set_new(o, "weight", json_integer(w));
	if (steer_accept_queue(h->fd, &q) == 0)
		json_object_set_new(o, "accept_queue", json_integer(q));
}

static json_t *sockets_json(void)
{
	json_t *a = json_array();
	for (const struct held_socket *h = model->sockets; h; h = h->next) {
		json_t *o = json_pack("{s:s, s:o, s:i}", "name", h->conf.name, "listen",
				      json_string_utf8(h->conf.listen), "fd", h->fd);
		steered_json(o, h);
		json_array_append_new(a, o);
	}
	return a;
}

/* The newest generation that runs a program of this name. */
static const struct program_run *newest_program(const char *name)
{
	const struct program_run *p = model_program(model->serving, name);
	for (const struct generation *g = model->generations; !p && g; g = g->next)
		p = model_program(g, name);
	return p;
}

static json_t *program_json(const char *name)
{
	const struct program_run *p = newest_program(name);
	json_t *workers = json_array();
	for (const struct worker *w = model->workers; w; w = w->next)
		if (strcmp(w->prog->conf->name, name) == 0)
			json_array_append_new(workers, worker_json(w));
	json_t *j = json_pack("{s:s, s:i, s:i, s:I, s:o, s:o, s:o}", "name", name, "desired",
			      p->desired, "ready", model_program_ready(p), "generation",
			      (json_int_t)p->gen->number, "release", json_string_utf8(p->release),
			      "directory", json_string_utf8(p->directory), "workers", workers);
	if (p->check.io) /* only while it runs: a result outlives its meaning */
		json_object_set_new(j, "check",
				    json_pack("{s:I, s:b, s:I, s:o}", "runs",
					      (json_int_t)p->check.runs, "ok", p->check.ok,
					      "failures", (json_int_t)p->check.failures, "text",
					      json_string_utf8(p->check.text)));
	return j;
}

static bool listed(json_t *programs, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (programs, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return true;
	}
	return false;
}

static json_t *programs_json(void)
{
	json_t *a = json_array();
	const struct generation *order[16];
	size_t n = 0;
	if (model->serving)
		order[n++] = model->serving;
	for (const struct generation *g = model->generations; g && n < ARRAY_SIZE(order);
	     g = g->next)
		if (g != model->serving)
			order[n++] = g;
	for (size_t k = 0; k < n; k++) {
		for (size_t i = 0; i < order[k]->nprograms; i++) {
			const char *name = order[k]->programs[i].conf->name;
			if (!listed(a, name))
				json_array_append_new(a, program_json(name));
		}
	}
	return a;
}

static json_t *last_reload_json(void)
{
	const struct reload_result *r = reload_last_result();
	if (!r)
		return json_string("");
	if (r->outcome == RELOAD_SUCCEEDED && *r->release)
		return json_sprintf("generation %u deployed (release %s)", r->generation,
				    r->release);
	if (r->outcome == RELOAD_SUCCEEDED)
		return json_sprintf("generation %u deployed", r->generation);
	return json_string_utf8(r->reason);
}

/* Where a deploy is: the running reload's phase, or the watch window. */
static json_t *deploy_json(void)
{
	double left = 0;
	const char *phase = reload_phase(&left);
	unsigned watched = phase ? 0 : watch_running(&left);
	if (!phase && !watched)
		return json_pack("{s:s}", "phase", "idle");
	json_t *j = json_pack("{s:s}", "phase", phase ? phase : "watch");
	if (left > 0 || watched)
		json_object_set_new(j, "left_s", json_real(left));
	if (watched)
		json_object_set_new(j, "reload", json_integer(watched));
	return j;
}

json_t *status_json(void)
{
	char release[256] = "";
	if (model->serving)
		model_generation_release(model->serving, release, sizeof(release));
	return json_pack("{s:b, s:i, s:s, s:f, s:I, s:o, s:b, s:o, s:o, s:o, s:o}", "ok", 1, "pid",
			 (int)getpid(), "version", segue_version, "uptime_s",
			 now_mono() - model->started_mono, "generation",
			 (json_int_t)(model->serving ? model->serving->number : 0), "release",
			 json_string_utf8(release), "reloading", reload_running(), "deploy",
			 deploy_json(), "sockets", sockets_json(), "programs", programs_json(),
			 "last_reload", last_reload_json());
}

static void __attribute__((format(printf, 2, 3))) problem(json_t *problems, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(problems, json_string_utf8(text));
}

/* A slot without a ready worker says why its last one failed ("worker 0
 * cannot start: directory /srv/x: No such file or directory"). */
static void slot_problems(json_t *problems, const struct slot *s)
{
	const char *name = s->prog->conf->name;
	if (model_slot_in_crash_loop(s))
		problem(problems, "%s: crash loop in slot %d", name, s->index);
	if (s->failures > 0 && !(s->worker && s->worker->state == WORKER_READY))
		problem(problems, "%s: slot %d: %s", name, s->index, s->failure);
}

json_t *health_json(void)
{
	json_t *problems = json_array();
	for (size_t i = 0; model->serving && i < model->serving->nprograms; i++) {
		const struct program_run *p = &model->serving->programs[i];
		int ready = model_program_ready(p);
		if (ready < p->desired)
			json_array_append_new(problems,
					      json_sprintf("%s: %d of %d workers ready",
							   p->conf->name, ready, p->desired));
		for (int j = 0; j < p->desired; j++)
			slot_problems(problems, p->slots[j]);
		if (p->check.io && p->check.runs && !p->check.ok)
			problem(problems, "%s: check failed (%u in a row): %s", p->conf->name,
				p->check.failures, p->check.text);
	}
	if (!model->serving)
		json_array_append_new(problems, json_string("no generation is serving"));
	if (json_array_size(problems) == 0) {
		json_decref(problems);
		return json_pack("{s:b}", "ok", 1);
	}
	return json_pack("{s:b, s:s, s:o}", "ok", 0, "error", "unhealthy", "problems", problems);
}

/* --- metrics ------------------------------------------------------------- */

static void metric_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value in the text format, with backslash, quote and newline escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void release_metrics(FILE *f)
{
	metric_header(f, "segue_release_info", "gauge",
		      "1 for each program of a generation that runs, with its release.");
	for (const struct generation *g = model->generations; g; g = g->next)
		for (size_t i = 0; i < g->nprograms; i++) {
			fprintf(f, "segue_release_info{program=\"%s\",generation=\"%u\",release=\"",
				g->programs[i].conf->name, g->number);
			label_value(f, g->programs[i].release);
			fprintf(f, "\",serving=\"%d\"} 1\n", g == model->serving);
		}
}

static void worker_metrics(FILE *f)
{
	metric_header(f, "segue_workers", "gauge", "Workers by program, generation and state.");
	for (const struct generation *g = model->generations; g; g = g->next) {
		for (size_t i = 0; i < g->nprograms; i++) {
			int count[3] = {0};
			for (const struct worker *w = model->workers; w; w = w->next)
				if (w->prog == &g->programs[i])
					count[w->state == WORKER_LINGERING ? WORKER_DRAINING
									   : w->state]++;
			for (int s = 0; s < 3; s++)
				fprintf(f,
					"segue_workers{program=\"%s\",generation=\"%u\",state=\"%"
					"s\"} %d\n",
					g->programs[i].conf->name, g->number,
					worker_state_name((enum worker_state)s), count[s]);
		}
	}
	metric_header(f, "segue_workers_desired", "gauge", "Workers wanted per program.");
	for (size_t i = 0; model->serving && i < model->serving->nprograms; i++)
		fprintf(f, "segue_workers_desired{program=\"%s\"} %d\n",
			model->serving->programs[i].conf->name,
			model->serving->programs[i].desired);
}

/* The accept queue of a listening TCP socket, from TCP_INFO: tcpi_unacked
 * holds the queue's length and tcpi_sacked its limit. */
static bool accept_queue(const struct held_socket *h, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);
	return h->conf.addr.kind != ADDR_UNIX &&
	       getsockopt(h->fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

/* Labels of a held socket: a steered one is one generation's. */
static void socket_labels(const struct held_socket *h, char *buf, size_t len)
{
	if (h->group_index < 0)
		snprintf(buf, len, "socket=\"%s\"", h->conf.name);
	else
		snprintf(buf, len, "socket=\"%s\",generation=\"%u\"", h->conf.name,
			 steer_generation_of(h));
}

static void socket_metrics(FILE *f)
{
	char labels[300];
	struct tcp_info ti;
	metric_header(f, "segue_socket_accept_queue", "gauge",
		      "Connections waiting in a held socket's accept queue.");
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		if (accept_queue(h, &ti)) {
			socket_labels(h, labels, sizeof(labels));
			fprintf(f, "segue_socket_accept_queue{%s} %u\n", labels, ti.tcpi_unacked);
		}
	metric_header(f, "segue_socket_accept_queue_limit", "gauge",
		      "The accept queue's limit (backlog) of a held socket.");
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		if (accept_queue(h, &ti)) {
			socket_labels(h, labels, sizeof(labels));
			fprintf(f, "segue_socket_accept_queue_limit{%s} %u\n", labels,
				ti.tcpi_sacked);
		}
	metric_header(f, "segue_socket_weight_percent", "gauge",
		      "A steered socket's share of new connections while a canary is weighted.");
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		if (steer_weight_of(h) >= 0) {
			socket_labels(h, labels, sizeof(labels));
			fprintf(f, "segue_socket_weight_percent{%s} %d\n", labels,
				steer_weight_of(h));
		}
}

char *metrics_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	metric_header(f, "segue_up", "gauge", "1 while segue runs.");
	fprintf(f, "segue_up 1\n");
	metric_header(f, "segue_uptime_seconds", "gauge", "Seconds since segue started.");
	fprintf(f, "segue_uptime_seconds %.3f\n", now_mono() - model->started_mono);
	metric_header(f, "segue_generation", "gauge", "The generation serving now.");
	fprintf(f, "segue_generation %u\n", model->serving ? model->serving->number : 0);
	metric_header(f, "segue_reloading", "gauge", "1 while a reload runs.");
	fprintf(f, "segue_reloading %d\n", reload_running() ? 1 : 0);
	metric_header(f, "segue_reloads_total", "counter", "Reloads by result.");
	fprintf(f, "segue_reloads_total{result=\"succeeded\"} %u\n", model->counters.reloads_ok);
	fprintf(f, "segue_reloads_total{result=\"failed\"} %u\n", model->counters.reloads_failed);
	metric_header(f, "segue_reload_duration_seconds", "gauge",
		      "How long the last successful reload took.");
	fprintf(f, "segue_reload_duration_seconds %.3f\n", model->counters.last_reload_seconds);
	metric_header(f, "segue_worker_restarts_total", "counter",
		      "Workers restarted after they exited unasked.");
	fprintf(f, "segue_worker_restarts_total %u\n", model->counters.worker_restarts);
	metric_header(f, "segue_crash_loops_total", "counter", "Crash loops detected.");
	fprintf(f, "segue_crash_loops_total %u\n", model->counters.crash_loops);
	release_metrics(f);
	worker_metrics(f);
	socket_metrics(f);
	fclose(f);
	return buf;
}
