/* lifecycle.c: the worker lifecycle table, pure: no processes, no I/O. */
/* SPDX-License-Identifier: MIT */
#include "lifecycle.h"

#include <stddef.h>

/* Every transition that does something; any other (state, event) pair
 * keeps the state and does nothing. */
static const struct rule {
	enum worker_state from;
	enum worker_event on;
	struct worker_transition to;
} rules[] = {
    /* a starting worker */
    {WORKER_STARTING, WEV_READY, {WORKER_READY, WACT_READY}},
    {WORKER_STARTING, WEV_READY_TIMEOUT, {WORKER_DRAINING, WACT_TIMED_OUT}},
    {WORKER_STARTING, WEV_SPAWN_FAILED, {WORKER_GONE, WACT_NOT_STARTED}},
    /* a starting or ready one: what it does unasked fails its slot */
    {WORKER_STARTING, WEV_STOPPING, {WORKER_DRAINING, WACT_SELF_STOP}},
    {WORKER_READY, WEV_STOPPING, {WORKER_DRAINING, WACT_SELF_STOP}},
    {WORKER_STARTING, WEV_EXITED, {WORKER_GONE, WACT_CRASHED}},
    {WORKER_READY, WEV_EXITED, {WORKER_GONE, WACT_CRASHED}},
    {WORKER_STARTING, WEV_EXITED_LINGER, {WORKER_GONE, WACT_CRASHED}},
    {WORKER_READY, WEV_EXITED_LINGER, {WORKER_GONE, WACT_CRASHED}},
    /* segue asks it to stop, gently or not */
    {WORKER_STARTING, WEV_DRAIN, {WORKER_DRAINING, WACT_DRAIN}},
    {WORKER_READY, WEV_DRAIN, {WORKER_DRAINING, WACT_DRAIN}},
    {WORKER_STARTING, WEV_KILL, {WORKER_DRAINING, WACT_KILL}},
    {WORKER_READY, WEV_KILL, {WORKER_DRAINING, WACT_KILL}},
    /* draining: its exit is expected, its group may outlive it */
    {WORKER_DRAINING, WEV_EXITED, {WORKER_GONE, WACT_EXITED}},
    {WORKER_DRAINING, WEV_EXITED_LINGER, {WORKER_LINGERING, WACT_LINGER}},
    {WORKER_DRAINING, WEV_DRAIN_TIMEOUT, {WORKER_DRAINING, WACT_KILL}},
    {WORKER_DRAINING, WEV_KILL, {WORKER_DRAINING, WACT_KILL}},
    /* lingering: gone once its group is */
    {WORKER_LINGERING, WEV_GROUP_EMPTY, {WORKER_GONE, WACT_FREE}},
    {WORKER_LINGERING, WEV_DRAIN_TIMEOUT, {WORKER_LINGERING, WACT_KILL}},
    {WORKER_LINGERING, WEV_KILL, {WORKER_LINGERING, WACT_KILL}},
};

struct worker_transition worker_step(enum worker_state state, enum worker_event event)
{
	if ((unsigned)state >= WORKER_NSTATES || (unsigned)event >= WEV_NEVENTS)
		return (struct worker_transition){WORKER_GONE, WACT_NONE};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].from == state && rules[i].on == event)
			return rules[i].to;
	return (struct worker_transition){state, WACT_NONE};
}

static const char *const state_names[] = {"starting", "ready", "draining", "lingering", "gone"};

const char *worker_state_name(enum worker_state s)
{
	return s == WORKER_LINGERING ? "draining" : worker_state_detail(s);
}

const char *worker_state_detail(enum worker_state s)
{
	return (unsigned)s < WORKER_NSTATES ? state_names[s] : "?";
}

const char *worker_event_name(enum worker_event e)
{
	static const char *const names[] = {
	    "ready",	   "stopping", "ready-timeout", "exited",	"exited-linger",
	    "group-empty", "drain",    "drain-timeout", "spawn-failed", "kill",
	};
	return (unsigned)e < WEV_NEVENTS ? names[e] : "?";
}

const char *worker_action_name(enum worker_action a)
{
	static const char *const names[] = {
	    "none",   "ready",	"drain", "self-stop",	"timed-out", "crashed",
	    "exited", "linger", "kill",	 "not-started", "free",
	};
	return (unsigned)a < WACT_NACTIONS ? names[a] : "?";
}
