/* t/unit/log.c: unit tests for events with hostile text and the log file. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/log.h"
#include "../../src/utf8.h"
#include "../tap.h"

#define R UTF8_REPLACEMENT

static char dir[] = "/tmp/segue-unit-log.XXXXXX";
static json_t *last; /* the last event a subscriber saw, copied */

static void collect(const char *name, json_t *event, void *data)
{
	(void)name;
	(void)data;
	json_decref(last);
	last = json_deep_copy(event);
}

static char *path_in(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Every string and key in v is valid UTF-8. */
static bool all_valid(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	bool good = true;

	if (json_is_string(v))
		return utf8_valid(json_string_value(v), json_string_length(v));
	if (json_is_object(v)) {
		json_object_foreach (v, key, item) {
			good = good && utf8_valid(key, strlen(key)) && all_valid(item);
		}
	}
	if (json_is_array(v)) {
		json_array_foreach (v, i, item) {
			good = good && all_valid(item);
		}
	}
	return good;
}

static const char *field(const char *key)
{
	const char *s = json_string_value(json_object_get(last, key));
	return s ? s : "(none)";
}

static void test_event_text(void)
{
	const char *log = path_in("events.log");
	ok(log_open(LOG_FORMAT_JSON, log) == 0, "log_open a JSON log file");
	event_subscribe(collect, NULL);

	/* json_pack refused the name and segue aborted: a crash before. */
	event_emit(LEVEL_INFO, "caf\xe9", NULL, "hello");
	is_string("caf" R, field("event"), "an invalid event name is cleaned");

	json_t *f = json_object();
	json_object_set_new(f, "reason", json_stringn_nocheck("caf\xe9", 4));
	json_object_set_new_nocheck(f, "k\xff", json_string("v"));
	json_t *list = json_array();
	json_array_append_new(list, json_stringn_nocheck("\xed\xa0\x80", 3));
	json_t *inner = json_object();
	json_object_set_new(inner, "x", json_stringn_nocheck("a\0b", 3));
	json_array_append_new(list, inner);
	json_object_set_new(f, "list", list);
	json_object_set_new(f, "n", json_integer(7));
	event_emit(LEVEL_WARN, "config_rejected", f, "ready-delay = \"caf\xe9\"");
	ok(last && all_valid(last), "every string and key in the event is valid UTF-8");
	is_string("caf" R, field("reason"), "a string field is cleaned");
	is_string("v", json_string_value(json_object_get(last, "k" R)), "a key is cleaned");
	is_string(R R R, json_string_value(json_array_get(json_object_get(last, "list"), 0)),
		  "a string inside an array is cleaned");
	is_string("a" R "b",
		  json_string_value(
		      json_object_get(json_array_get(json_object_get(last, "list"), 1), "x")),
		  "a string in an object in an array is cleaned");
	is_int(7, json_integer_value(json_object_get(last, "n")), "a number is kept");
	is_string("ready-delay = \"caf" R "\"", field("msg"), "msg is cleaned");

	/* A message cut mid-character at its limit keeps whole characters. */
	char msg[1100];
	memset(msg, 'a', 1022);
	strcpy(msg + 1022, "\xc3\xa9 and more");
	event_emit(LEVEL_INFO, "long", NULL, "%s", msg);
	msg[1022] = '\0';
	is_string(msg, field("msg"), "a long msg is cut before the character that does not fit");

	event_unsubscribe(collect, NULL);
	char *text = slurp(log);
	int lines = 0, parsed = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		lines++;
		parsed += j != NULL;
		json_decref(j);
	}
	is_int(3, lines, "each event is a line in the log file");
	is_int(3, parsed, "and each line is JSON");
}

static void test_symlink(void)
{
	const char *target = path_in("root-only");
	const char *link = path_in("segue.log");
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "secret\n", 7) == 7 && close(fd) == 0, "a file to protect");
	ok(symlink(target, link) == 0, "a log-file that is a symlink to it");

	errno = 0;
	is_int(-1, log_open(LOG_FORMAT_LOGFMT, link), "log_open refuses a symlink");
	is_int(ELOOP, errno, "with ELOOP");
	ok(strstr(log_error(), link) && strstr(log_error(), "symbolic link"),
	   "log_error names the file and says why: %s", log_error());
	is_string("secret\n", slurp(target), "the file behind the link is untouched");

	/* USR1 after a swap: the log was moved and a symlink put in its place. */
	const char *log = path_in("a.log");
	const char *old = path_in("a.log.1");
	is_int(0, log_open(LOG_FORMAT_LOGFMT, log), "log_open a plain log file");
	notice("before the swap");
	ok(rename(log, old) == 0 && symlink(target, log) == 0,
	   "moved away, a symlink in its place");
	is_int(-1, log_reopen(), "log_reopen refuses the symlink");
	notice("after the swap");
	is_string("secret\n", slurp(target), "the file behind the link is untouched");
	const char *moved = slurp(old);
	ok(strstr(moved, "a.log: is a symbolic link") != NULL,
	   "the old file holds a warning naming the file");
	ok(strstr(moved, "after the swap") != NULL, "and goes on receiving lines");

	ok(unlink(log) == 0, "the symlink removed");
	is_int(0, log_reopen(), "log_reopen then creates a new file");
	notice("after the reopen");
	ok(strstr(slurp(log), "after the reopen") != NULL, "which receives the lines");
}

static void test_other_files(void)
{
	const char *fifo = path_in("fifo");
	ok(mkfifo(fifo, 0600) == 0, "a FIFO nobody reads");
	/* A blocking open would hang here (alarm in main ends the test). */
	is_int(-1, log_open(LOG_FORMAT_LOGFMT, fifo), "log_open of a FIFO without a reader fails");
	ok(strstr(log_error(), fifo) != NULL, "naming the file: %s", log_error());

	is_int(-1, log_open(LOG_FORMAT_LOGFMT, dir), "log_open of a directory fails");
	ok(strstr(log_error(), dir) != NULL, "naming it: %s", log_error());
	const char *missing = path_in("no/such/dir");
	is_int(-1, log_open(LOG_FORMAT_LOGFMT, missing), "log_open in a missing directory fails");
	ok(strstr(log_error(), "No such file") != NULL, "saying why: %s", log_error());
}

int main(void)
{
	plan_lazy();
	alarm(20);
	if (!mkdtemp(dir))
		skip_all("no temporary directory");
	test_event_text();
	test_symlink();
	test_other_files();
	log_open(LOG_FORMAT_LOGFMT, NULL);
	json_decref(last);
	char *cmd = NULL;
	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return tap_done();
}
