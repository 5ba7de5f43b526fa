/* lifecycle.h: a worker's lifecycle as a table of (state, event) -> action. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LIFECYCLE_H
#define SEGUE_LIFECYCLE_H

/* A worker's one explicit state. Each state that waits has one deadline:
 * STARTING the ready-timeout, DRAINING and LINGERING the drain-timeout. */
enum worker_state {
	WORKER_STARTING,  /* spawned, not ready yet */
	WORKER_READY,	  /* serving */
	WORKER_DRAINING,  /* told to stop (or said STOPPING=1); its exit is expected */
	WORKER_LINGERING, /* its leader exited; the rest of its group still runs */
	WORKER_GONE,	  /* nothing left: the worker is freed */
	WORKER_NSTATES,
};

/* What can happen to a worker. */
enum worker_event {
	WEV_READY,	   /* READY=1, the delay passed, or ready-command said 0 */
	WEV_STOPPING,	   /* the worker sent STOPPING=1 on its own */
	WEV_READY_TIMEOUT, /* not ready within ready-timeout */
	WEV_EXITED,	   /* its leader exited and its group is empty */
	WEV_EXITED_LINGER, /* its leader exited; its group lives on */
	WEV_GROUP_EMPTY,   /* the last process of its group is gone */
	WEV_DRAIN,	   /* segue wants it to stop: drain signal */
	WEV_DRAIN_TIMEOUT, /* still alive after drain-timeout */
	WEV_SPAWN_FAILED,  /* it could not be started at all */
	WEV_KILL,	   /* stop at once (a second TERM) */
	WEV_NEVENTS,
};

/* What the worker module does on a transition, each a small named step. */
enum worker_action {
	WACT_NONE,
	WACT_READY,	  /* mark ready, stop the ready deadline */
	WACT_DRAIN,	  /* leave the slot, drain signal, arm the drain deadline */
	WACT_SELF_STOP,	  /* leave the slot as failed ("said STOPPING=1"), arm drain deadline */
	WACT_TIMED_OUT,	  /* leave the slot as failed (timeout), drain signal, drain deadline */
	WACT_CRASHED,	  /* an exit nobody asked for: leave as failed, KILL the group, free */
	WACT_EXITED,	  /* an expected exit: free */
	WACT_LINGER,	  /* an expected exit with the group alive: keep the drain deadline */
	WACT_KILL,	  /* KILL the group, no deadline left */
	WACT_NOT_STARTED, /* leave the slot as failed (could not start), free */
	WACT_FREE,	  /* the group is empty: free */
	WACT_NACTIONS,
};

struct worker_transition {
	enum worker_state next;
	enum worker_action action;
};

/* The table's entry for (state, event). Pairs that cannot or need not
 * change anything give the same state and WACT_NONE. */
struct worker_transition worker_step(enum worker_state state, enum worker_event event);

/* "starting", "ready", "draining" (SPEC's three; lingering shows as
 * draining) or "gone". */
const char *worker_state_name(enum worker_state s);
/* The exact name: "lingering" too. */
const char *worker_state_detail(enum worker_state s);
const char *worker_event_name(enum worker_event e);
const char *worker_action_name(enum worker_action a);

#endif
