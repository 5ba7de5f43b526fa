/* paths.h: where segue and seguectl look for things nobody named. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_PATHS_H
#define SEGUE_PATHS_H

#include <stddef.h>

/* Writes the control socket's default path to buf: $SEGUE_CONTROL when set
 * and not empty, else RUNSTATEDIR/segue/control.sock for root or when
 * $XDG_RUNTIME_DIR is unset or empty, else $XDG_RUNTIME_DIR/segue/control.sock.
 * Returns 0, or -1 when the path did not fit (buf then holds as much of it
 * as fits, NUL-terminated, if len > 0). */
int control_default_path(char *buf, size_t len);

#endif
