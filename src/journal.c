/* journal.c: events as native journal entries, with fields, when segue's stderr is the journal. */
/* SPDX-License-Identifier: MIT */
#include "journal.h"
#include "sd.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* journald's longest field name. */
#define FIELD_NAME_MAX 64
#define PREFIX	       "SEGUE_"

/* Only digits: strtoull alone would take a sign and leading spaces. */
static bool parse_number(const char *s, char stop, unsigned long long *out, const char **rest)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end != stop)
		return false;
	*rest = end;
	return true;
}

bool journal_stream_is(int fd)
{
	const char *s = getenv("JOURNAL_STREAM"), *rest;
	unsigned long long dev, ino;
	struct stat st;
	if (!s || !parse_number(s, ':', &dev, &rest) || !parse_number(rest + 1, '\0', &ino, &rest))
		return false;
	if (fstat(fd, &st) < 0)
		return false; /* then stderr is no journal either */
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* The fields of one entry, each "KEY=value" and owned. */
struct entry {
	struct iovec *iov;
	size_t n, cap;
};

static void add(struct entry *e, const char *name, const char *value, size_t vlen)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->iov = xreallocarray(e->iov, e->cap, sizeof(*e->iov));
	}
	size_t nlen = strlen(name);
	char *field = xmalloc(nlen + 1 + vlen);
	memcpy(field, name, nlen);
	field[nlen] = '=';
	memcpy(field + nlen + 1, value, vlen);
	e->iov[e->n++] = (struct iovec){.iov_base = field, .iov_len = nlen + 1 + vlen};
}

static void add_json(struct entry *e, const char *name, json_t *value)
{
	if (json_is_string(value)) {
		add(e, name, json_string_value(value), json_string_length(value));
		return;
	}
	char *text = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (text)
		add(e, name, text, strlen(text));
	free(text);
}

/* SEGUE_ and key in upper case, or NULL when that is too long for a
 * field name. */
static char *field_name(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > FIELD_NAME_MAX - strlen(PREFIX))
		return NULL;
	char *name = xasprintf(PREFIX "%s", key);
	for (char *p = name + strlen(PREFIX); *p; p++) {
		char c = *p;
		if (c >= 'a' && c <= 'z')
			*p = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			*p = '_';
	}
	return name;
}

/* syslog's numbers, as journalctl -p reads them. */
static const char *priority(json_t *level)
{
	static const char *const map[][2] = {
	    {"debug", "7"}, {"info", "6"}, {"warn", "4"}, {"error", "3"}};
	const char *name = json_string_value(level);
	for (size_t i = 0; name && i < ARRAY_SIZE(map); i++)
		if (strcmp(name, map[i][0]) == 0)
			return map[i][1];
	return "5"; /* notice: no level given */
}

static void add_fields(struct entry *e, json_t *event)
{
	const char *key;
	json_t *value;
	json_object_foreach (event, key, value) {
		if (strcmp(key, "ts") == 0 || strcmp(key, "level") == 0 || strcmp(key, "msg") == 0)
			continue; /* the journal's own timestamp, PRIORITY, MESSAGE */
		char *name = field_name(key);
		if (name)
			add_json(e, name, value);
		free(name);
	}
}

int journal_send_event(json_t *event)
{
	struct entry e = {0};
	json_t *msg = json_object_get(event, "msg");
	if (!json_is_string(msg) || json_string_length(msg) == 0)
		msg = json_object_get(event, "event");
	add_json(&e, "MESSAGE", msg);
	const char *p = priority(json_object_get(event, "level"));
	add(&e, "PRIORITY", p, strlen(p));
	add(&e, "SYSLOG_IDENTIFIER", "segue", strlen("segue"));
	add_fields(&e, event);
	int r = sd_journal_send_fields(e.iov, (int)e.n);
	int saved = errno;
	for (size_t i = 0; i < e.n; i++)
		free(e.iov[i].iov_base);
	free(e.iov);
	errno = saved;
	return r;
}
