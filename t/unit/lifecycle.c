/* t/unit/lifecycle.c: the worker lifecycle table, every (state, event)
 * pair and long random event sequences, against an oracle written apart
 * from the table. */
/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "../../src/lifecycle.h"
#include "../tap.h"

static struct worker_transition keep(enum worker_state s)
{
	return (struct worker_transition){s, WACT_NONE};
}

static struct worker_transition to(enum worker_state s, enum worker_action a)
{
	return (struct worker_transition){s, a};
}

/* A starting or ready worker: ends it owns (crash, timeout, STOPPING=1)
 * are failures; an asked-for drain is not. */
static struct worker_transition live(enum worker_state s, enum worker_event e)
{
	switch (e) {
	case WEV_READY:
		return s == WORKER_STARTING ? to(WORKER_READY, WACT_READY) : keep(s);
	case WEV_STOPPING:
		return to(WORKER_DRAINING, WACT_SELF_STOP);
	case WEV_READY_TIMEOUT:
		return s == WORKER_STARTING ? to(WORKER_DRAINING, WACT_TIMED_OUT) : keep(s);
	case WEV_EXITED:
	case WEV_EXITED_LINGER:
		return to(WORKER_GONE, WACT_CRASHED);
	case WEV_DRAIN:
		return to(WORKER_DRAINING, WACT_DRAIN);
	case WEV_SPAWN_FAILED:
		return s == WORKER_STARTING ? to(WORKER_GONE, WACT_NOT_STARTED) : keep(s);
	case WEV_KILL:
		return to(WORKER_DRAINING, WACT_KILL);
	default:
		return keep(s);
	}
}

static struct worker_transition oracle(enum worker_state s, enum worker_event e)
{
	if (s == WORKER_STARTING || s == WORKER_READY)
		return live(s, e);
	if (s == WORKER_GONE)
		return keep(s);
	if (e == WEV_DRAIN_TIMEOUT || e == WEV_KILL)
		return to(s, WACT_KILL);
	if (s == WORKER_DRAINING && e == WEV_EXITED)
		return to(WORKER_GONE, WACT_EXITED);
	if (s == WORKER_DRAINING && e == WEV_EXITED_LINGER)
		return to(WORKER_LINGERING, WACT_LINGER);
	if (s == WORKER_LINGERING && e == WEV_GROUP_EMPTY)
		return to(WORKER_GONE, WACT_FREE);
	return keep(s);
}

static bool frees(enum worker_action a)
{
	return a == WACT_CRASHED || a == WACT_EXITED || a == WACT_NOT_STARTED || a == WACT_FREE;
}

static void every_pair(void)
{
	for (int s = 0; s < WORKER_NSTATES; s++) {
		for (int e = 0; e < WEV_NEVENTS; e++) {
			struct worker_transition got = worker_step(s, e), want = oracle(s, e);
			ok(got.next == want.next && got.action == want.action, "%s + %s -> %s, %s",
			   worker_state_detail(s), worker_event_name(e),
			   worker_state_detail(got.next), worker_action_name(got.action));
			ok(frees(got.action) == (got.next == WORKER_GONE && s != WORKER_GONE),
			   "%s + %s: freed exactly when it becomes gone", worker_state_detail(s),
			   worker_event_name(e));
		}
	}
}

/* Invariants over random lives: gone is for ever; once draining, never
 * starting or ready again; ready only from starting by WEV_READY. */
static void random_lives(void)
{
	srand(42);
	int bad = 0;
	for (int life = 0; life < 20000; life++) {
		enum worker_state s = WORKER_STARTING;
		bool stopped = false;
		for (int step = 0; step < 12; step++) {
			enum worker_event e = (enum worker_event)(rand() % WEV_NEVENTS);
			struct worker_transition t = worker_step(s, e);
			bool wrong =
			    (s == WORKER_GONE && t.next != WORKER_GONE) ||
			    (stopped && (t.next == WORKER_STARTING || t.next == WORKER_READY)) ||
			    (t.next == WORKER_READY && s != WORKER_READY &&
			     !(s == WORKER_STARTING && e == WEV_READY)) ||
			    (t.next != oracle(s, e).next);
			bad += wrong;
			stopped |= t.next == WORKER_DRAINING || t.next == WORKER_LINGERING;
			s = t.next;
		}
	}
	is_int(0, bad, "20000 random lives of 12 events keep every invariant");
}

int main(void)
{
	plan_lazy();
	every_pair();
	random_lives();
	is_string("draining", worker_state_name(WORKER_LINGERING),
		  "a lingering worker shows as draining (SPEC's three states)");
	ok(worker_step(WORKER_NSTATES, 0).action == WACT_NONE,
	   "an out-of-range state does nothing");
	return tap_done();
}
