/* reload.h: the reload state machine: which reload runs, which waits. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_RELOAD_H
#define SEGUE_RELOAD_H

#include <stdbool.h>

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

#endif
