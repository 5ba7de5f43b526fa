/* log.c: the supervisor's own messages and structured events. */
/* SPDX-License-Identifier: MIT */
#include "log.h"
#include "journal.h"
#include "utf8.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct subscriber {
	event_subscriber *fn;
	void *data;
};

static enum log_format format = LOG_FORMAT_LOGFMT;
static char *log_path;
static int log_fd = STDERR_FILENO;
static int debug_on;
static bool to_journal;	     /* stderr is the journal: entries with fields */
static bool journal_failing; /* it refused the last entry */
static struct subscriber *subscribers;
static size_t nsubscribers;

/* The longest msg of an event, in bytes with its NUL. */
#define LOG_MSG_MAX 1024

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static char open_error[600];

/* Never through a symlink: whoever can write the log's directory could
 * otherwise make root append to any file. O_NONBLOCK only for the open, so
 * that a FIFO without a reader fails at once instead of hanging segue. */
static int open_log_file(const char *path)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd >= 0 && fd_set_nonblock(fd, false) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	if (fd >= 0)
		return fd;
	int saved = errno;
	struct stat st;
	if (saved == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		snprintf(open_error, sizeof(open_error),
			 "log-file %s: is a symbolic link, which segue does not follow", path);
	else
		snprintf(open_error, sizeof(open_error), "log-file %s: %s", path, strerror(saved));
	errno = saved;
	return -1;
}

const char *log_error(void)
{
	return open_error;
}

int log_open(enum log_format f, const char *path)
{
	format = f;
	if (!path || !*path) {
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		free(log_path);
		log_path = NULL;
		/* Decided here, not at the first line: an upgrade's new image
		 * closes what it inherited before it opens the log. */
		to_journal = journal_stream_is(STDERR_FILENO);
		return 0;
	}
	int fd = open_log_file(path);
	if (fd < 0)
		return -1;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	char *copy = xstrdup(path);
	free(log_path);
	log_path = copy;
	return 0;
}

int log_reopen(void)
{
	if (!log_path)
		return 0;
	char *path = xstrdup(log_path);
	int r = log_open(format, path);
	free(path);
	if (r < 0)
		warn("%s; still writing to the file opened before", open_error);
	return r;
}

void log_set_format(enum log_format f)
{
	format = f;
}

const char *log_format_name(enum log_format f)
{
	return f == LOG_FORMAT_JSON ? "json" : "logfmt";
}

int log_parse_format(const char *s, enum log_format *f)
{
	if (strcmp(s, "logfmt") == 0)
		*f = LOG_FORMAT_LOGFMT;
	else if (strcmp(s, "json") == 0)
		*f = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

void log_set_debug(int on)
{
	debug_on = on;
}

void format_timestamp(double t, char *buf, size_t len)
{
	time_t secs = (time_t)t;
	struct tm tm;
	gmtime_r(&secs, &tm);
	int ms = (int)((t - (double)secs) * 1000.0);
	if (ms < 0 || ms > 999)
		ms = 0;
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, ms);
}

/* logfmt quotes a value that is empty or holds space, quote, '=' or control
 * characters; inside quotes, '"' and '\' are escaped and controls become \n,
 * \t or \xNN so that one event stays one line. */
static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' || *s == '\\')
			return true;
	return false;
}

static void put_logfmt_value(FILE *out, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, out);
		return;
	}
	putc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < ' ' || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			putc(c, out);
	}
	putc('"', out);
}

static void put_logfmt_field(FILE *out, const char *key, json_t *value)
{
	fprintf(out, " %s=", key);
	if (json_is_string(value)) {
		put_logfmt_value(out, json_string_value(value));
		return;
	}
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	put_logfmt_value(out, text ? text : "");
	free(text);
}

static char *render_logfmt(json_t *event)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	const char *key;
	json_t *value;
	bool first = true;
	json_object_foreach (event, key, value) {
		if (first) {
			fprintf(out, "%s=", key);
			put_logfmt_value(out, json_string_value(value));
			first = false;
		} else {
			put_logfmt_field(out, key, value);
		}
	}
	putc('\n', out);
	fclose(out);
	return buf;
}

static char *render(json_t *event)
{
	if (format == LOG_FORMAT_LOGFMT)
		return render_logfmt(event);
	char *line =
	    json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (!line)
		return NULL;
	char *withnl = xasprintf("%s\n", line);
	free(line);
	return withnl;
}

/* One write per line so that lines from segue and its workers, which share
 * stderr, never interleave within a line. */
static void write_line(const char *line)
{
	size_t len = strlen(line);
	while (len > 0) {
		ssize_t n = write(log_fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

static json_t *clean_json(json_t *v);

static json_t *clean_object(json_t *obj)
{
	json_t *out = json_object();
	const char *key;
	json_t *value;
	json_object_foreach (obj, key, value) {
		json_t *k = json_string_utf8(key);
		if (out && k)
			json_object_set_new_nocheck(out, json_string_value(k), clean_json(value));
		json_decref(k);
	}
	return out;
}

/* A copy of v in which every string and every key is valid UTF-8: jansson
 * checks json_string() but not the _nocheck forms, and json_dumps fails on
 * (and a control client's JSON parser rejects) anything else. */
static json_t *clean_json(json_t *v)
{
	size_t i;
	json_t *item, *out;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (utf8_valid(json_string_value(v), json_string_length(v)))
			return json_incref(v);
		return json_stringn_utf8(json_string_value(v), json_string_length(v));
	case JSON_OBJECT:
		return clean_object(v);
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach (v, i, item) {
			if (out)
				json_array_append_new(out, clean_json(item));
		}
		return out;
	default:
		return json_incref(v);
	}
}

static json_t *new_event(enum log_level level, const char *name)
{
	char ts[40];
	format_timestamp(now_wall(), ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:o}", "ts", ts, "level", level_names[level], "event",
			 json_string_utf8(name ? name : "?"));
}

static void write_event(json_t *event)
{
	char *line = render(event);
	if (line)
		write_line(line);
	free(line);
}

/* Said once, on stderr, until the journal takes an entry again; never
 * through the journal or the subscribers, so it cannot loop. */
static void journal_refused(int err)
{
	if (journal_failing)
		return;
	journal_failing = true;
	json_t *w = new_event(LEVEL_WARN, "message");
	char *msg = xasprintf("the journal refused an entry (%s): writing to stderr until it "
			      "takes one again",
			      strerror(err));
	if (w && json_object_set_new(w, "msg", json_string_utf8(msg)) == 0)
		write_event(w);
	json_decref(w);
	free(msg);
}

/* Into the journal, with fields, when stderr is the journal; else, and
 * whenever the journal refuses it, as a line to the log (nothing is lost). */
static void put_event(json_t *event)
{
	if (to_journal && log_fd == STDERR_FILENO) {
		if (journal_send_event(event) == 0) {
			journal_failing = false;
			return;
		}
		journal_refused(errno);
	}
	write_event(event);
}

static void emit(enum log_level level, const char *name, json_t *fields, const char *msg)
{
	json_t *event = new_event(level, name);
	if (!event)
		abort();
	if (json_is_object(fields)) {
		json_t *clean = clean_json(fields);
		if (clean)
			json_object_update(event, clean);
		json_decref(clean);
	}
	json_decref(fields);
	if (msg && *msg) {
		/* Cut to the message limit between two characters. */
		char text[LOG_MSG_MAX];
		size_t n = utf8_clean(text, sizeof(text), msg, strlen(msg));
		json_object_set_new_nocheck(event, "msg", json_stringn_nocheck(text, n));
	}
	if (level != LEVEL_DEBUG || debug_on)
		put_event(event);
	for (size_t i = 0; i < nsubscribers; i++)
		subscribers[i].fn(name, event, subscribers[i].data);
	json_decref(event);
}

void event_emit(enum log_level level, const char *name, json_t *fields, const char *fmt, ...)
{
	/* Longer than the limit, so that the cut falls on a character. */
	char msg[2 * LOG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, name, fields, msg);
}

static void __attribute__((format(printf, 3, 0)))
vmessage(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	if (level == LEVEL_DEBUG && !debug_on)
		return;
	char msg[2 * LOG_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	emit(level, "message", NULL, msg);
}

#define DEFINE_MESSAGE(fn, level, witherr)                                                         \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vmessage(level, witherr ? saved : 0, fmt, ap);                                     \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

DEFINE_MESSAGE(debug, LEVEL_DEBUG, 0)
DEFINE_MESSAGE(notice, LEVEL_INFO, 0)
DEFINE_MESSAGE(warn, LEVEL_WARN, 0)
DEFINE_MESSAGE(syswarn, LEVEL_WARN, 1)

void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(status);
}

void sysdie(int status, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vmessage(LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(status);
}

int event_subscribe(event_subscriber *fn, void *data)
{
	subscribers = xrealloc(subscribers, (nsubscribers + 1) * sizeof(*subscribers));
	subscribers[nsubscribers++] = (struct subscriber){fn, data};
	return 0;
}

void event_unsubscribe(event_subscriber *fn, void *data)
{
	for (size_t i = 0; i < nsubscribers; i++) {
		if (subscribers[i].fn == fn && subscribers[i].data == data) {
			subscribers[i] = subscribers[--nsubscribers];
			return;
		}
	}
}
