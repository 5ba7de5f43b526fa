/* crashstop.h: exit-on-crash-loop: a program of the serving generation
 * that enters a crash loop stops segue, which then exits CRASHSTOP_EXIT,
 * so that an orchestrator (Docker, Kubernetes) restarts the container. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CRASHSTOP_H
#define SEGUE_CRASHSTOP_H

/* segue's exit status after such a stop (segue(8), EXIT STATUS): 1 and
 * 2 already say usage or config error, and failure at start. */
#define CRASHSTOP_EXIT 3

/* Subscribes to events: with exit-on-crash-loop = true in the serving
 * generation's config, a crash_loop event of that generation starts a
 * graceful stop (core_stop) on the next pass of the loop; a stop already
 * under way is left as it is. */
void crashstop_start(void);
void crashstop_stop(void);

/* CRASHSTOP_EXIT once a crash loop started the stop, else 0. */
int crashstop_status(void);

#endif
