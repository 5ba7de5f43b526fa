/* watch.c: the watch window after a deploy's cut-over: judged from the
 * model at each settle; one timer, only while a window is open. */
/* SPDX-License-Identifier: MIT */
#include "watch.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

#include <ev.h>
#include <stdio.h>
#include <string.h>

static struct {
	unsigned seen;	     /* the newest successful reload looked at */
	unsigned reload;     /* the reload whose generation is watched, or 0 */
	unsigned generation; /* that generation */
	double until;	     /* monotonic */
	double seconds;	     /* the window's length */
	ev_timer timer;
} w;
static void (*changed)(void);

static void arm(double left)
{
	ev_timer_stop(EV_DEFAULT, &w.timer);
	ev_timer_set(&w.timer, left > 0 ? left : 0, 0);
	ev_timer_start(EV_DEFAULT, &w.timer);
}

/* libev may run a timer a little before now_mono() reaches its time: the
 * rest is waited for, so a window always ends. */
static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	if (w.reload && w.until > now_mono())
		arm(w.until - now_mono());
	else
		changed();
}

void watch_init(void (*fn)(void))
{
	changed = fn;
	ev_init(&w.timer, timer_cb);
}

/* The longest `watch` of generation g's programs. */
static double window_of(const struct generation *g)
{
	double longest = 0;
	for (size_t i = 0; g && i < g->nprograms; i++)
		if (g->programs[i].conf->watch > longest)
			longest = g->programs[i].conf->watch;
	return longest;
}

bool watch_follows(const struct reload_result *r)
{
	return r && r->outcome == RELOAD_SUCCEEDED && !r->rollback && model->serving &&
	       model->serving->number == r->generation && window_of(model->serving) > 0;
}

static json_t *fields(void)
{
	char release[256];
	json_t *f = json_pack("{s:I, s:I}", "reload", (json_int_t)w.reload, "generation",
			      (json_int_t)w.generation);
	if (model->serving && model->serving->number == w.generation) {
		model_generation_release(model->serving, release, sizeof(release));
		if (*release)
			json_object_set_new(f, "release", json_string_utf8(release));
	}
	return f;
}

static void begin(const struct reload_result *r)
{
	w.reload = r->id;
	w.generation = r->generation;
	w.seconds = window_of(model->serving);
	w.until = now_mono() + w.seconds;
	arm(w.seconds);
	json_t *f = fields();
	json_object_set_new(f, "watch_s", json_real(w.seconds));
	event_emit(LEVEL_INFO, "watch_started", f, "release %s on watch for %gs", r->release,
		   w.seconds);
}

/* Closes the window; event says how, unless NULL. */
static void end(const char *event, json_t *f, enum log_level level, const char *msg)
{
	ev_timer_stop(EV_DEFAULT, &w.timer);
	if (event)
		event_emit(level, event, f, "%s", msg);
	w.reload = w.generation = 0;
}

/* A newer reload began, or segue stops: no verdict on this release. */
static void end_early(void)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "the watch of generation %u ended early: %s", w.generation,
		 model->stopping ? "segue is stopping" : "a new reload began");
	end("watch_ended", fields(), LEVEL_WARN, msg);
}

/* Why the watched release failed, or NULL. */
static const char *verdict(char *buf, size_t len)
{
	const struct generation *g = model->serving;
	for (size_t i = 0; i < g->nprograms; i++) {
		const struct program_run *p = &g->programs[i];
		for (int j = 0; j < p->nslots; j++)
			if (p->slots[j]->failures > 0) {
				snprintf(buf, len, "program %s: %s", p->conf->name,
					 p->slots[j]->failure);
				return buf;
			}
		if (*p->conf->check && p->check.failures >= (unsigned)p->conf->check_failures) {
			snprintf(buf, len, "program %s: %u check%s in a row failed: %s",
				 p->conf->name, p->check.failures,
				 p->check.failures == 1 ? "" : "s", p->check.text);
			return buf;
		}
	}
	return NULL;
}

/* The watched release failed: auto_rollback (the caller starts the
 * rollback next) or, when none can start, watch_failed with why not. */
void watch_fail(const char *why, const char *cannot)
{
	char msg[1200];
	const char *to = reload_previous_release();
	json_t *f = fields();
	const char *release = json_string_value(json_object_get(f, "release"));
	json_object_set_new(f, "reason", json_string_utf8(why));
	if (!cannot)
		json_object_set_new(f, "rollback_to", json_string_utf8(to));
	else
		json_object_set_new(f, "error", json_string_utf8(cannot));
	snprintf(msg, sizeof(msg), "release %s failed its watch after %.1fs: %s; %s%s",
		 release ? release : "", w.seconds - (w.until - now_mono()), why,
		 cannot ? "it cannot be rolled back: " : "back to release ", cannot ? cannot : to);
	end(cannot ? "watch_failed" : "auto_rollback", f, LEVEL_ERROR, msg);
}

bool watch_settle(char *reason, size_t len)
{
	const struct reload_result *r = reload_last_success();
	if (w.reload && (reload_running_id() > w.reload || !model->serving ||
			 model->serving->number != w.generation || model->stopping))
		end_early();
	if (r && r->id != w.seen) {
		w.seen = r->id;
		if (!w.reload && watch_follows(r)) {
			begin(r);
			/* a queued reload began as this one ended: whoever waits
			 * for this window hears that it ended */
			if (reload_running_id() > r->id || model->stopping)
				end_early();
		}
	}
	if (!w.reload)
		return false;
	if (verdict(reason, len))
		return true; /* the window stays open until the caller acts */
	if (now_mono() >= w.until) {
		char msg[600];
		json_t *f = fields();
		const char *release = json_string_value(json_object_get(f, "release"));
		snprintf(msg, sizeof(msg), "release %s (generation %u) passed its watch of %gs",
			 release ? release : "", w.generation, w.seconds);
		end("watch_passed", f, LEVEL_INFO, msg);
	}
	return false;
}

bool watch_judges(const struct program_run *p)
{
	return w.reload && p->gen == model->serving && p->gen->number == w.generation;
}

unsigned watch_running(double *left)
{
	*left = w.reload ? w.until - now_mono() : 0;
	if (*left < 0)
		*left = 0;
	return w.reload;
}

json_t *watch_save(void)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:f}", "seen", (json_int_t)w.seen, "reload",
			 (json_int_t)w.reload, "generation", (json_int_t)w.generation, "until",
			 w.until, "seconds", w.seconds);
}

int watch_restore(json_t *j, char *err, size_t len)
{
	w.seen = (unsigned)json_integer_value(json_object_get(j, "seen"));
	w.reload = (unsigned)json_integer_value(json_object_get(j, "reload"));
	w.generation = (unsigned)json_integer_value(json_object_get(j, "generation"));
	w.until = json_number_value(json_object_get(j, "until"));
	w.seconds = json_number_value(json_object_get(j, "seconds"));
	if (w.reload)
		arm(w.until - now_mono());
	return 0;
}
