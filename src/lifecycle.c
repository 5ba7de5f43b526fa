/* lifecycle.c: the worker lifecycle table, pure: no processes, no I/O. */
/* SPDX-License-Identifier: MIT */
#include "lifecycle.h"

#include <stddef.h>

#define T(s, a) {WORKER_##s, WACT_##a}
/* Rows are states, columns events, in enum order:
 * READY, STOPPING, READY_TIMEOUT, EXITED, EXITED_LINGER, GROUP_EMPTY,
 * DRAIN, DRAIN_TIMEOUT, SPAWN_FAILED, KILL */
static const struct worker_transition table[WORKER_NSTATES][WEV_NEVENTS] = {
	[WORKER_STARTING] = {
		T(READY, READY), T(DRAINING, SELF_STOP), T(DRAINING, TIMED_OUT),
		T(GONE, CRASHED), T(GONE, CRASHED), T(STARTING, NONE),
		T(DRAINING, DRAIN), T(STARTING, NONE), T(GONE, NOT_STARTED),
		T(DRAINING, KILL),
	},
	[WORKER_READY] = {
		T(READY, NONE), T(DRAINING, SELF_STOP), T(READY, NONE),
		T(GONE, CRASHED), T(GONE, CRASHED), T(READY, NONE),
		T(DRAINING, DRAIN), T(READY, NONE), T(READY, NONE),
		T(DRAINING, KILL),
	},
	[WORKER_DRAINING] = {
		T(DRAINING, NONE), T(DRAINING, NONE), T(DRAINING, NONE),
		T(GONE, EXITED), T(LINGERING, LINGER), T(DRAINING, NONE),
		T(DRAINING, NONE), T(DRAINING, KILL), T(DRAINING, NONE),
		T(DRAINING, KILL),
	},
	[WORKER_LINGERING] = {
		T(LINGERING, NONE), T(LINGERING, NONE), T(LINGERING, NONE),
		T(LINGERING, NONE), T(LINGERING, NONE), T(GONE, FREE),
		T(LINGERING, NONE), T(LINGERING, KILL), T(LINGERING, NONE),
		T(LINGERING, KILL),
	},
	[WORKER_GONE] = {
		T(GONE, NONE), T(GONE, NONE), T(GONE, NONE), T(GONE, NONE),
		T(GONE, NONE), T(GONE, NONE), T(GONE, NONE), T(GONE, NONE),
		T(GONE, NONE), T(GONE, NONE),
	},
};
#undef T

struct worker_transition worker_step(enum worker_state state, enum worker_event event)
{
	if ((unsigned)state >= WORKER_NSTATES || (unsigned)event >= WEV_NEVENTS)
		return (struct worker_transition){WORKER_GONE, WACT_NONE};
	return table[state][event];
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
		"ready", "stopping", "ready-timeout", "exited", "exited-linger",
		"group-empty", "drain", "drain-timeout", "spawn-failed", "kill",
	};
	return (unsigned)e < WEV_NEVENTS ? names[e] : "?";
}

const char *worker_action_name(enum worker_action a)
{
	static const char *const names[] = {
		"none", "ready", "drain", "self-stop", "timed-out", "crashed",
		"exited", "linger", "kill", "not-started", "free",
	};
	return (unsigned)a < WACT_NACTIONS ? names[a] : "?";
}
