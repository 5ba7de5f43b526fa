/* log.h: the supervisor's own messages and structured events. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LOG_H
#define SEGUE_LOG_H

#include <jansson.h>
#include <stdarg.h>
#include <sys/types.h>

enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };
enum log_level { LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR };

/* Where lines go: stderr when path is NULL or empty, else appended to path,
 * which is never followed if it is a symlink. When stderr is the journal
 * ($JOURNAL_STREAM names it), each event goes to the journal natively, with
 * its fields (journal.h), and only an entry it refuses is written to stderr. Returns 0, or -1 with
 * errno set and a message naming the file in log_error() (the old destination stays). */
int log_open(enum log_format format, const char *path);
/* Reopens the log file after logrotate moved it (USR1). On failure it warns
 * itself, naming the file, into the old destination (which stays), and
 * returns -1 with errno set. */
int log_reopen(void);
/* What the last failed log_open or log_reopen could not do, e.g.
 * "log-file /var/log/segue.log: is a symbolic link, which segue does not
 * follow". */
const char *log_error(void);
void log_set_format(enum log_format format);
const char *log_format_name(enum log_format format);
int log_parse_format(const char *s, enum log_format *format);
void log_set_debug(int on);

/* Plain messages, one structured line each (event="message").
 * The sys* forms append strerror(errno). */
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void syswarn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void sysdie(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Emits event `name`: a log line, then every subscriber. fields is a JSON
 * object (stolen; may be NULL) of extra keys such as program, generation,
 * pid; "ts", "level", "event" and "msg" are added. Every string (the name,
 * msg, and each string and key inside fields) is made valid UTF-8 first
 * (see utf8.h), and msg is cut to 1023 bytes between two characters. */
void event_emit(enum log_level level, const char *name, json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Subscribers see every event object (borrowed: json_incref to keep it). */
typedef void event_subscriber(const char *name, json_t *event, void *data);
int event_subscribe(event_subscriber *fn, void *data);
void event_unsubscribe(event_subscriber *fn, void *data);

/* Formats the wall clock as RFC 3339 UTC with milliseconds. */
void format_timestamp(double unix_seconds, char *buf, size_t len);

#endif
