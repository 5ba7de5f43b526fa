/* systemd.c: what segue tells systemd (READY, RELOADING, STOPPING,
 * STATUS, WATCHDOG), decided from the event stream. */
/* SPDX-License-Identifier: MIT */
#include "systemd.h"
#include "log.h"
#include "model.h"
#include "reload.h"
#include "sd.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ev_timer watchdog;
static bool ready_sent; /* the first generation was ready once */

static void tell(const char *state)
{
	if (sd_send_notify(state) < 0)
		syswarn("notifying systemd (NOTIFY_SOCKET)");
}

void systemd_status_line(char *buf, size_t len)
{
	int ready = 0, desired = 0;
	const struct generation *g = model->serving;
	for (size_t i = 0; g && i < g->nprograms; i++) {
		ready += model_program_ready(&g->programs[i]);
		desired += g->programs[i].desired;
	}
	const struct reload_result *r = reload_last_result();
	char last[400] = "";
	if (r && r->outcome == RELOAD_SUCCEEDED)
		snprintf(last, sizeof(last), "; last reload: generation %u deployed",
			 r->generation);
	else if (r)
		snprintf(last, sizeof(last), "; last reload: %.360s", r->reason);
	snprintf(buf, len, "generation %u: %d of %d workers ready%s", g ? g->number : 0, ready,
		 desired, last);
}

static void tell_ready(void)
{
	char line[512];
	systemd_status_line(line, sizeof(line));
	char *msg = xasprintf("READY=1\nSTATUS=%s", line);
	tell(msg);
	free(msg);
}

static bool is_reload_end(const char *name)
{
	return strcmp(name, "reload_succeeded") == 0 || strcmp(name, "reload_failed") == 0 ||
	       strcmp(name, "config_rejected") == 0;
}

static void on_event(const char *name, json_t *event, void *data)
{
	if (strcmp(name, "reload_started") == 0) {
		char *state = xasprintf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
					(unsigned long long)(now_mono() * 1e6));
		tell(state);
		free(state);
	} else if (is_reload_end(name) && json_object_get(event, "reload")) {
		tell_ready();
	} else if (strcmp(name, "worker_ready") == 0 && !ready_sent && model->serving &&
		   model_generation_ready(model->serving)) {
		ready_sent = true;
		tell_ready();
	} else if (strcmp(name, "upgrade_started") == 0) {
		tell("STATUS=upgrading");
	} else if (strcmp(name, "upgrade_succeeded") == 0 || strcmp(name, "upgrade_failed") == 0) {
		tell_ready();
	} else if (strcmp(name, "stopping") == 0) {
		tell("STOPPING=1\nSTATUS=stopping: draining every worker");
	}
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	tell("WATCHDOG=1");
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
	ev_timer_start(EV_DEFAULT, &watchdog);
}

void systemd_start(void)
{
	event_subscribe(on_event, NULL);
	start_watchdog();
}

void systemd_stop(void)
{
	event_unsubscribe(on_event, NULL);
	ev_timer_stop(EV_DEFAULT, &watchdog);
}

json_t *systemd_save(void)
{
	return json_pack("{s:b}", "ready_sent", ready_sent);
}

int systemd_restore(json_t *j, char *err, size_t len)
{
	ready_sent = json_is_true(json_object_get(j, "ready_sent"));
	return 0;
}
