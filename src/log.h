/* log.h: the supervisor's own messages and structured events. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_LOG_H
#define SEGUE_LOG_H

#include <jansson.h>
#include <stdarg.h>
#include <sys/types.h>

enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };
enum log_level { LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR };

/* Where lines go: stderr when path is NULL or empty, else appended to path.
 * Returns 0, or -1 with errno set (the old destination stays). */
int log_open(enum log_format format, const char *path);
/* Reopens the log file after logrotate moved it (USR1). */
int log_reopen(void);
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
void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void sysdie(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Emits event `name`: a log line, then every subscriber. fields is a JSON
 * object (stolen; may be NULL) of extra keys such as program, generation,
 * pid; "ts", "level", "event" and "msg" are added. */
void event_emit(enum log_level level, const char *name, json_t *fields,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Subscribers see every event object (borrowed: json_incref to keep it). */
typedef void event_subscriber(const char *name, json_t *event, void *data);
int event_subscribe(event_subscriber *fn, void *data);
void event_unsubscribe(event_subscriber *fn, void *data);

/* Formats the wall clock as RFC 3339 UTC with milliseconds. */
void format_timestamp(double unix_seconds, char *buf, size_t len);

#endif
