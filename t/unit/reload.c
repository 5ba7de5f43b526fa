/* t/unit/reload.c: unit tests for the reload state machine (coalescing). */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "../../src/reload.h"
#include "../tap.h"

static const char *phase_name(enum reload_phase p)
{
	switch (p) {
	case RELOAD_IDLE:
		return "idle";
	case RELOAD_RUNNING:
		return "running";
	case RELOAD_STOPPED:
		return "stopped";
	}
	return "?";
}

static const char *input_name(enum reload_input in)
{
	switch (in) {
	case RELOAD_REQUEST:
		return "request";
	case RELOAD_FINISHED:
		return "finished";
	case RELOAD_STOP:
		return "stop";
	}
	return "?";
}

static const char *action_name(enum reload_action a)
{
	switch (a) {
	case RELOAD_NOTHING:
		return "nothing";
	case RELOAD_BEGIN:
		return "begin";
	case RELOAD_QUEUED:
		return "queued";
	case RELOAD_IGNORED:
		return "ignored";
	}
	return "?";
}

/* Every reachable state (phase, queued) with every input. */
static const struct transition {
	enum reload_phase phase;
	bool queued;
	enum reload_input in;
	enum reload_action action;
	enum reload_phase next;
	bool next_queued;
} transitions[] = {
    {RELOAD_IDLE, false, RELOAD_REQUEST, RELOAD_BEGIN, RELOAD_RUNNING, false},
    {RELOAD_IDLE, false, RELOAD_FINISHED, RELOAD_NOTHING, RELOAD_IDLE, false},
    {RELOAD_IDLE, false, RELOAD_STOP, RELOAD_NOTHING, RELOAD_STOPPED, false},
    {RELOAD_RUNNING, false, RELOAD_REQUEST, RELOAD_QUEUED, RELOAD_RUNNING, true},
    {RELOAD_RUNNING, false, RELOAD_FINISHED, RELOAD_NOTHING, RELOAD_IDLE, false},
    {RELOAD_RUNNING, false, RELOAD_STOP, RELOAD_NOTHING, RELOAD_STOPPED, false},
    {RELOAD_RUNNING, true, RELOAD_REQUEST, RELOAD_IGNORED, RELOAD_RUNNING, true},
    {RELOAD_RUNNING, true, RELOAD_FINISHED, RELOAD_BEGIN, RELOAD_RUNNING, false},
    {RELOAD_RUNNING, true, RELOAD_STOP, RELOAD_NOTHING, RELOAD_STOPPED, false},
    {RELOAD_STOPPED, false, RELOAD_REQUEST, RELOAD_IGNORED, RELOAD_STOPPED, false},
    {RELOAD_STOPPED, false, RELOAD_FINISHED, RELOAD_IGNORED, RELOAD_STOPPED, false},
    {RELOAD_STOPPED, false, RELOAD_STOP, RELOAD_IGNORED, RELOAD_STOPPED, false},
};

#define NTRANSITIONS (sizeof(transitions) / sizeof(transitions[0]))

static void test_table(void)
{
	for (size_t i = 0; i < NTRANSITIONS; i++) {
		const struct transition *t = &transitions[i];
		struct reload_machine m = {.phase = t->phase, .queued = t->queued};
		char what[64];

		snprintf(what, sizeof(what), "%s%s + %s", phase_name(t->phase),
			 t->queued ? "+queued" : "", input_name(t->in));
		enum reload_action a = reload_step(&m, t->in);

		if (!is_int(t->action, a, "%s: %s", what, action_name(t->action)))
			diag("got %s", action_name(a));
		is_string(phase_name(t->next), phase_name(m.phase), "%s: then %s", what,
			  phase_name(t->next));
		is_int(t->next_queued, m.queued, "%s: then %squeued", what,
		       t->next_queued ? "" : "not ");
	}
	/* The table covers every phase with every input. */
	int seen[3][3] = {{0}};

	for (size_t i = 0; i < NTRANSITIONS; i++)
		seen[transitions[i].phase][transitions[i].in]++;
	bool all = true;

	for (int p = 0; p < 3; p++)
		for (int in = 0; in < 3; in++)
			all = all && seen[p][in] > 0;
	ok(all, "the table holds every (phase, input) pair");
}

static void test_initial(void)
{
	struct reload_machine m;

	memset(&m, 0, sizeof(m));
	is_int(RELOAD_IDLE, m.phase, "a zeroed machine is idle");
	is_int(false, m.queued, "a zeroed machine has nothing queued");
}

/* 100 requests during one reload: one reload queued, run once. */
static void test_burst(void)
{
	struct reload_machine m = {0};
	int begun = 0, queued = 0, ignored = 0, nothing = 0;

	is_int(RELOAD_BEGIN, reload_step(&m, RELOAD_REQUEST), "first request begins");
	for (int i = 0; i < 100; i++) {
		switch (reload_step(&m, RELOAD_REQUEST)) {
		case RELOAD_BEGIN:
			begun++;
			break;
		case RELOAD_QUEUED:
			queued++;
			break;
		case RELOAD_IGNORED:
			ignored++;
			break;
		case RELOAD_NOTHING:
			nothing++;
			break;
		}
	}
	is_int(0, begun, "burst: no reload begins while one runs");
	is_int(1, queued, "burst: exactly one reload queued");
	is_int(99, ignored, "burst: the other 99 coalesced into it");
	is_int(0, nothing, "burst: no request dropped silently");
	is_int(RELOAD_BEGIN, reload_step(&m, RELOAD_FINISHED),
	       "first reload finished: the queued one begins");
	is_int(RELOAD_RUNNING, m.phase, "the queued reload runs");
	is_int(false, m.queued, "nothing queued behind it");
	is_int(RELOAD_NOTHING, reload_step(&m, RELOAD_FINISHED), "second reload finished");
	is_int(RELOAD_IDLE, m.phase, "then idle");
	is_int(RELOAD_NOTHING, reload_step(&m, RELOAD_FINISHED), "a stray finish: nothing");
	is_int(RELOAD_IDLE, m.phase, "still idle");

	/* A burst during the queued reload queues one more. */
	m = (struct reload_machine){0};
	reload_step(&m, RELOAD_REQUEST);
	reload_step(&m, RELOAD_REQUEST);
	is_int(RELOAD_BEGIN, reload_step(&m, RELOAD_FINISHED), "queued reload begins");
	queued = ignored = 0;
	for (int i = 0; i < 100; i++) {
		enum reload_action a = reload_step(&m, RELOAD_REQUEST);

		queued += a == RELOAD_QUEUED;
		ignored += a == RELOAD_IGNORED;
	}
	is_int(1, queued, "burst during the queued reload: one more queued");
	is_int(99, ignored, "burst during the queued reload: 99 coalesced");
	is_int(RELOAD_BEGIN, reload_step(&m, RELOAD_FINISHED), "and it begins");
	is_int(RELOAD_NOTHING, reload_step(&m, RELOAD_FINISHED), "then idle");
}

static void test_stop(void)
{
	struct reload_machine m = {0};

	/* Stopping while a reload runs, with one queued: the queued one is
	 * dropped, and nothing begins when the running one ends. */
	reload_step(&m, RELOAD_REQUEST);
	reload_step(&m, RELOAD_REQUEST);
	is_int(RELOAD_NOTHING, reload_step(&m, RELOAD_STOP), "stop during a reload");
	is_int(RELOAD_STOPPED, m.phase, "stopped");
	is_int(false, m.queued, "the queued reload is dropped");
	is_int(RELOAD_IGNORED, reload_step(&m, RELOAD_FINISHED),
	       "the running reload ending: ignored");
	is_int(RELOAD_IGNORED, reload_step(&m, RELOAD_REQUEST), "a request after stop: ignored");
	is_int(RELOAD_IGNORED, reload_step(&m, RELOAD_STOP), "a second stop: ignored");
	is_int(RELOAD_STOPPED, m.phase, "stopped for good");
	is_int(false, m.queued, "nothing queued after stop");

	int begun = 0;

	for (int i = 0; i < 1000; i++)
		begun += reload_step(&m, (enum reload_input)(i % 3)) == RELOAD_BEGIN;
	is_int(0, begun, "no reload ever begins after stop");
	is_int(RELOAD_STOPPED, m.phase, "stopped is final");

	m = (struct reload_machine){0};
	is_int(RELOAD_NOTHING, reload_step(&m, RELOAD_STOP), "stop while idle");
	is_int(RELOAD_STOPPED, m.phase, "stopped from idle");
	is_int(RELOAD_IGNORED, reload_step(&m, RELOAD_REQUEST), "a request after: ignored");
}

/*
 * Every input sequence up to a length, checked against the promises:
 * - at most one reload runs at a time;
 * - BEGIN comes only from a request when idle or from a finish with one
 *   queued; QUEUED only while one runs;
 * - no request is lost: when the machine goes idle, every request made
 *   before has a reload that began after it;
 * - at most one reload begins per finish, and none after stop.
 */
struct oracle {
	bool running;  /* a reload runs */
	bool unserved; /* a request came after the running reload began */
	bool stopped;
};

static const char *check_step(struct oracle *o, enum reload_input in, enum reload_action a)
{
	if (o->stopped)
		return a == RELOAD_IGNORED ? NULL : "after stop, not ignored";
	switch (in) {
	case RELOAD_REQUEST:
		if (!o->running) {
			if (a != RELOAD_BEGIN)
				return "request while idle did not begin";
			o->running = true;
			return NULL;
		}
		if (a == RELOAD_BEGIN)
			return "request began a second reload";
		if (a == RELOAD_QUEUED && o->unserved)
			return "queued twice";
		if (a == RELOAD_IGNORED && !o->unserved)
			return "first request during a reload ignored";
		if (a == RELOAD_NOTHING)
			return "request during a reload dropped";
		o->unserved = true;
		return NULL;
	case RELOAD_FINISHED:
		if (!o->running)
			return a == RELOAD_NOTHING ? NULL : "stray finish did something";
		if (o->unserved) {
			if (a != RELOAD_BEGIN)
				return "request lost at finish";
			o->unserved = false;
			return NULL;
		}
		if (a != RELOAD_NOTHING)
			return "finish with nothing queued did something";
		o->running = false;
		return NULL;
	case RELOAD_STOP:
		if (a != RELOAD_NOTHING)
			return "stop did something";
		o->stopped = true;
		o->running = o->unserved = false;
		return NULL;
	}
	return "bad input";
}

static bool state_agrees(const struct oracle *o, const struct reload_machine *m)
{
	if (o->stopped)
		return m->phase == RELOAD_STOPPED && !m->queued;
	if (o->running)
		return m->phase == RELOAD_RUNNING && m->queued == o->unserved;
	return m->phase == RELOAD_IDLE && !m->queued;
}

static void test_sequences(int maxlen)
{
	enum reload_input seq[16];

	for (int len = 1; len <= maxlen; len++) {
		long total = 1, failures = 0;

		for (int i = 0; i < len; i++)
			total *= 3;
		for (long code = 0; code < total; code++) {
			struct reload_machine m = {0};
			struct oracle o = {0};
			const char *why = NULL;
			long c = code;
			int i;

			for (i = 0; i < len; i++, c /= 3)
				seq[i] = (enum reload_input)(c % 3);
			for (i = 0; i < len && why == NULL; i++) {
				enum reload_action a = reload_step(&m, seq[i]);

				why = check_step(&o, seq[i], a);
				if (why == NULL && !state_agrees(&o, &m))
					why = "state differs from the model";
			}
			if (why != NULL && failures++ < 3) {
				char buf[256] = "";

				for (int j = 0; j < i; j++) {
					strcat(buf, input_name(seq[j]));
					strcat(buf, " ");
				}
				diag("%s: %s", buf, why);
			}
		}
		is_int(0, failures, "all %ld sequences of %d inputs keep the promises", total, len);
	}
}

/* canary_size: a count, or a share of the workers rounded up; never more
 * than the workers, never a share of nothing. */
static void test_canary_size(void)
{
	static const struct {
		int canary, percent, desired, want;
	} cases[] = {
	    {0, 0, 4, 0},  {1, 0, 4, 1}, {3, 0, 2, 2},	 {0, 50, 4, 2},
	    {0, 50, 5, 3}, {0, 1, 4, 1}, {0, 100, 4, 4}, {0, 25, 1, 1},
	    {0, 10, 0, 0}, {2, 0, 0, 0}, {0, 33, 10, 4}, {0, 100, 10000, 10000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct program_conf c = {.canary = cases[i].canary,
					 .canary_percent = cases[i].percent};
		is_int(cases[i].want, canary_size(&c, cases[i].desired),
		       "canary = %d%s of %d workers starts %d", cases[i].percent ?: cases[i].canary,
		       cases[i].percent ? "%" : "", cases[i].desired, cases[i].want);
	}
}

int main(void)
{
	plan_lazy();
	test_canary_size();
	test_initial();
	test_table();
	test_burst();
	test_stop();
	test_sequences(10);
	return tap_done();
}
