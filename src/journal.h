/* journal.h: events as native journal entries, with fields, when segue's stderr is the journal. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_JOURNAL_H
#define SEGUE_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

/* fd is the journal's stream: $JOURNAL_STREAM ("DEVICE:INODE", which
 * systemd sets for StandardError=journal) names fd's device and inode. A
 * copy of the variable inherited by a process whose stderr went elsewhere
 * names another file, and does not match. */
bool journal_stream_is(int fd);

/* Sends event (an object with "level", "event", "msg" and other fields)
 * as one journal entry:
 *   MESSAGE            msg, or the event's name when it has no msg
 *   PRIORITY           from level: debug 7, info 6, warn 4, error 3
 *   SYSLOG_IDENTIFIER  segue
 *   SEGUE_<FIELD>      each other field but ts (event, program, generation,
 *                      release, ...): its name in upper case, with any byte
 *                      but a letter, a digit or '_' made '_'; a string as it
 *                      is (newlines and all), anything else as compact JSON.
 * Returns 0, or -1 with errno when the journal did not take it. */
int journal_send_event(json_t *event);

#endif
