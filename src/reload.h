/* reload.h: the reload: requests coalesced by a small pure machine, and
 * each reload a transaction that plans, then commits or aborts. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_RELOAD_H
#define SEGUE_RELOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "model.h"

/* The pure part, kept apart so that it can be tested without processes.
 * Requests that arrive while a reload runs are coalesced: at most one more
 * reload runs after the current one ends, with the newest config. */
enum reload_phase { RELOAD_IDLE, RELOAD_RUNNING, RELOAD_STOPPED };
enum reload_input { RELOAD_REQUEST, RELOAD_FINISHED, RELOAD_STOP };
enum reload_action { RELOAD_NOTHING, RELOAD_BEGIN, RELOAD_QUEUED, RELOAD_IGNORED };

struct reload_machine {
	enum reload_phase phase;
	bool queued;
};

/* Feeds one input; returns what the caller must do. RELOAD_BEGIN after
 * RELOAD_FINISHED means the queued reload starts now. */
enum reload_action reload_step(struct reload_machine *m, enum reload_input in);

/* A rolling reload's next moves for one program, decided without
 * processes. In: for each new slot below `desired`, whether it was
 * started and whether its worker is starting or ready; which old slots
 * were already taken over. Out: the old slots to drain now (their
 * replacement is ready) and how many new slots to start. */
struct rolling_view {
	int desired;
	int max_surge;
	int next_slot;	       /* new slots started so far: 0 .. next_slot-1 */
	const bool *new_ready; /* [desired] */
	const bool *new_starting;
	const bool *taken; /* [desired]: old slot already drained for it */
};
/* Writes the old slots to drain to drain[] (room for desired) and
 * returns their count; *start gets how many new slots to start. */
int rolling_next(const struct rolling_view *v, int *drain, int *start);

/* How many new workers of a program with `desired` workers a reload starts
 * first, as its canary: `canary`, or `canary`% rounded up; 0 for none. */
int canary_size(const struct program_conf *c, int desired);

/* How a reload ended. */
enum reload_outcome { RELOAD_SUCCEEDED = 1, RELOAD_FAILED, RELOAD_REJECTED };

struct reload_result {
	unsigned id; /* the reload's number (events carry it as "reload") */
	enum reload_outcome outcome;
	unsigned generation; /* the new one; 0 when none was started */
	bool rollback;	     /* it started the previous release again */
	char release[256];   /* the new generation's; "" when none was started */
	char reason[512];    /* why it failed or was rejected */
	double duration_ms;
};

/* The config file to read at each reload (NULL in quick mode: the running
 * config serves again) and the command line's defaults. */
void reload_init(const char *config_file, const struct config_defaults *defs,
		 void (*changed)(void));

/* Returns the number of the reload that will serve this request, or 0 when
 * segue is stopping. */
unsigned reload_request(const char *source);

/* Whether reload_rollback would start one now; else why not. */
bool reload_can_roll_back(char *err, size_t len);

/* Starts the previous release again; 0 with a message when it cannot. */
unsigned reload_rollback(const char *source, char *err, size_t len);

/* Drives the running reload after any change: starts its workers (within
 * the spawn budget), drains old slots their replacements took over,
 * commits when every new worker is ready, aborts when one failed. */
void reload_settle(void);

/* segue is stopping: the running reload is aborted, none follows. */
void reload_stop(void);

bool reload_running(void);

/* The running reload's number, 0 when none runs. A committed reload runs
 * on while a steered handover quiesces (steer.h). */
unsigned reload_running_id(void);

/* The running reload holds its canary (every canary worker ready, nothing
 * else starting): an upgrade in place may hand it on. */
bool reload_holding(void);

/* The old generation's slot was drained for a replacement by the running
 * rolling reload: nobody else may fill it (an abort gives it back). */
bool reload_holds_slot(const struct program_run *old, int slot);

/* The running reload's phase, for status: "starting", "canary" (its
 * workers start), "canary-hold" (*left: seconds to go), "cut-over", "handover"; NULL
 * when none runs. */
const char *reload_phase(double *left);

/* p's canary is being held: its check judges it. */
bool reload_judges(const struct program_run *p);

/* The release the next rollback would start ("" if none). */
const char *reload_previous_release(void);

/* The result of the newest reload that ended, or NULL. */
const struct reload_result *reload_last_result(void);

/* The newest reload that succeeded, or NULL: a queued reload that began
 * (and maybe ended) at once does not hide it. */
const struct reload_result *reload_last_success(void);

/* Across an upgrade in place (state.h), which waits for no reload: the
 * count, the last result and the release to roll back to. */
json_t *reload_save(void);
int reload_restore(json_t *part, char *err, size_t len);

/* Frees what is kept for rollback (at exit). */
void reload_forget(void);

#endif
