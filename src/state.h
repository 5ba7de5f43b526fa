/* state.h: the whole state as versioned JSON, handed from one segue image
 * to the next by an upgrade in place (and back, when adoption fails). */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_STATE_H
#define SEGUE_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The format this image writes, and the oldest it reads. A newer segue
 * reads the formats of older ones; an older one refuses a newer format in
 * the preflight (`segue --upgrade-check N`), so a downgrade across a
 * format change fails before anything changed. */
#define STATE_FORMAT	    1
#define STATE_FORMAT_OLDEST 1

/* A module's part of the state: save returns its JSON (new reference) and
 * names with state_keep_fd every descriptor the next image must inherit;
 * restore rebuilds the module from it (0, or -1 with a message). main.c
 * registers the parts; restore runs them in the order registered. */
typedef json_t *state_save_fn(void);
typedef int state_restore_fn(json_t *part, char *err, size_t len);
void state_register(const char *name, state_save_fn *save, state_restore_fn *restore);
/* The same for a part that older images did not write: its restore gets
 * NULL when the state lacks it, and an upgrade from them still works. */
void state_register_optional(const char *name, state_save_fn *save, state_restore_fn *restore);

/* While saving: the next image inherits fd. */
void state_keep_fd(int fd);
/* While restoring: fd was named by the state (so it is open and ours). */
bool state_kept_fd(int fd);

/* Configs are written once however many parts refer to them: a part saves
 * a config as the id this returns, and gets it back with state_config. */
json_t *state_config_id(const struct config *c);
struct config *state_config(json_t *id);

/* Saves every part into a sealed memfd whose descriptor, and every kept
 * one, lose CLOEXEC. Returns the memfd, or -1 with a message. */
int state_write(char *err, size_t len);
/* After a failed exec: CLOEXEC again, the memfd closed. */
void state_abandon(int fd);

/* Reads the state from fd: checks its format, closes every inherited
 * descriptor it does not name (but keep, if >= 0), rebuilds the configs
 * (quick: the command line's config, for those that had no file; defs:
 * the command line's defaults) and runs every restore. Returns 0, or -1
 * with a message (the fds are as they were, for a fallback). */
int state_read(int fd, int keep, struct config *quick, const struct config_defaults *defs,
	       char *err, size_t len);

/* After a successful adoption: every kept descriptor is CLOEXEC again and
 * the state's memfd is closed. */
void state_done(int fd);

/* Helpers for parts: bytes that may not be UTF-8, as hex. */
json_t *state_hex(const char *bytes, size_t len);
/* Decodes into a malloc'd buffer; -1 when s is not hex. */
int state_unhex(json_t *s, char **bytes, size_t *len);

#endif
