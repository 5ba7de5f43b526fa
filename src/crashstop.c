/* crashstop.c: exit-on-crash-loop, an event subscriber that stops segue
 * when the serving generation enters a crash loop. */
/* SPDX-License-Identifier: MIT */
#include "crashstop.h"
#include "core.h"
#include "log.h"
#include "model.h"

#include <stdio.h>
#include <string.h>

static ev_timer later;
static bool stopped_by_crash;
static char program[128]; /* the program whose crash loop stops segue */

/* The stop runs from the loop, not from inside the event: a crash_loop
 * is emitted while the worker that crashed is still being handled. */
static void stop_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	if (model->stopping)
		return; /* a stop asked for meanwhile is that stop's business */
	stopped_by_crash = true;
	event_emit(LEVEL_ERROR, "crash_loop_exit",
		   json_pack("{s:s, s:i}", "program", program, "status", CRASHSTOP_EXIT),
		   "exit-on-crash-loop: %s is in a crash loop; draining every program, then "
		   "exiting %d",
		   program, CRASHSTOP_EXIT);
	core_stop(false);
}

static bool of_serving(json_t *event)
{
	const struct generation *g = model->serving;
	json_t *n = json_object_get(event, "generation");
	return g && g->config && g->config->exit_on_crash_loop && json_is_integer(n) &&
	       json_integer_value(n) == (json_int_t)g->number;
}

static void on_event(const char *name, json_t *event, void *data)
{
	if (strcmp(name, "crash_loop") != 0 || model->stopping || ev_is_active(&later) ||
	    !of_serving(event))
		return;
	const char *p = json_string_value(json_object_get(event, "program"));
	snprintf(program, sizeof(program), "%s", p ? p : "?");
	ev_timer_init(&later, stop_cb, 0, 0);
	ev_timer_start(EV_DEFAULT, &later);
}

void crashstop_start(void)
{
	event_subscribe(on_event, NULL);
}

void crashstop_stop(void)
{
	event_unsubscribe(on_event, NULL);
	ev_timer_stop(EV_DEFAULT, &later);
}

int crashstop_status(void)
{
	return stopped_by_crash ? CRASHSTOP_EXIT : 0;
}
