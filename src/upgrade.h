/* upgrade.h: upgrade in place: a new segue binary takes over the same
 * process, with every socket, worker and deadline (SPEC "Upgrade of segue
 * itself"): preflight, handover through a sealed memfd, adoption, and a
 * fallback to the previous image when adoption fails. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_UPGRADE_H
#define SEGUE_UPGRADE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Options of segue's own: the state to adopt, and why an upgrade fell
 * back (given to the previous image). */
#define UPGRADE_STATE_FD_OPTION "--state-fd"
#define UPGRADE_FALLBACK_OPTION "--upgrade-fallback"

/* At start: how segue was started (argv less the options above) and the
 * path to run again at an upgrade. */
void upgrade_init(int argc, char **argv);

/* A descriptor to this image, which a fallback runs even when the file
 * was replaced or deleted meanwhile (after adoption: once the state's
 * descriptors are sorted out). */
void upgrade_hold_image(void);

/* Starts an upgrade: the preflight runs the binary with --upgrade-check,
 * then the state is handed over and the binary execs in this process.
 * Returns 0 when it is under way (events say how it ends), or -1 with the
 * reason (event upgrade_failed too): busy with a reload or a stop, another
 * upgrade running, the binary missing. */
int upgrade_start(char *err, size_t len);

/* A child exited: true when it was the preflight (then it is handled). */
bool upgrade_child_exited(pid_t pid, int status);

/* The upgrade's part of the state (state.h). */
json_t *upgrade_save(void);
int upgrade_restore(json_t *part, char *err, size_t len);

/* This image adopted the state: upgrade_succeeded, or with fallback_reason
 * (this is the previous image, the new one failed) upgrade_failed. */
void upgrade_adopted(const char *fallback_reason);

/* Adoption failed: runs the previous image with the same state. Returns
 * only if that cannot be done. */
void upgrade_fall_back(int state_fd, const char *reason);

/* The descriptor of the previous image, from --state-fd N,M; forgotten
 * (closed) once the state is adopted. */
void upgrade_set_previous(int fd);
void upgrade_forget_previous(void);

/* Frees what upgrade_init kept (at exit). */
void upgrade_cleanup(void);

#endif
