/* state.c: the whole state as versioned JSON, handed from one segue image
 * to the next by an upgrade in place (and back, when adoption fails). */
/* SPDX-License-Identifier: MIT */
#include "state.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PARTS 16
#define MAX_STATE (64 << 20)

static struct part {
	const char *name;
	state_save_fn *save;
	state_restore_fn *restore;
	bool optional;
} parts[MAX_PARTS];
static size_t nparts;

static int *kept;
static size_t nkept, keptcap;

/* configs by id: saved as pointers, restored as objects */
static const struct config **saved_configs;
static struct config **restored_configs;
static size_t nconfigs;

void state_register(const char *name, state_save_fn *save, state_restore_fn *restore)
{
	if (nparts == MAX_PARTS)
		abort(); /* a programming error, found by any test */
	parts[nparts++] = (struct part){name, save, restore, false};
}

void state_register_optional(const char *name, state_save_fn *save, state_restore_fn *restore)
{
	state_register(name, save, restore);
	parts[nparts - 1].optional = true;
}

void state_keep_fd(int fd)
{
	if (fd < 0)
		return;
	if (nkept == keptcap) {
		keptcap = keptcap ? keptcap * 2 : 64;
		kept = xrealloc(kept, keptcap * sizeof(*kept));
	}
	kept[nkept++] = fd;
}

bool state_kept_fd(int fd)
{
	for (size_t i = 0; i < nkept; i++)
		if (kept[i] == fd)
			return true;
	return false;
}

json_t *state_config_id(const struct config *c)
{
	if (!c)
		return json_null();
	for (size_t i = 0; i < nconfigs; i++)
		if (saved_configs[i] == c)
			return json_integer((json_int_t)i);
	saved_configs = xrealloc(saved_configs, (nconfigs + 1) * sizeof(*saved_configs));
	saved_configs[nconfigs] = c;
	return json_integer((json_int_t)nconfigs++);
}

struct config *state_config(json_t *id)
{
	json_int_t i = json_integer_value(id);
	return json_is_integer(id) && i >= 0 && (size_t)i < nconfigs ? restored_configs[i] : NULL;
}

json_t *state_hex(const char *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc(len * 2 + 1);
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[(unsigned char)bytes[i] >> 4];
		s[2 * i + 1] = digits[(unsigned char)bytes[i] & 15];
	}
	s[len * 2] = '\0';
	json_t *j = json_string(s);
	free(s);
	return j;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int state_unhex(json_t *s, char **bytes, size_t *len)
{
	const char *t = json_string_value(s);
	size_t n = t ? strlen(t) : 1;
	if (!t || n % 2)
		return -1;
	*bytes = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(t[2 * i]), lo = nibble(t[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(*bytes);
			return -1;
		}
		(*bytes)[i] = (char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* --- writing ------------------------------------------------------------- */

static json_t *configs_json(void)
{
	json_t *a = json_array();
	for (size_t i = 0; i < nconfigs; i++) {
		const struct config *c = saved_configs[i];
		json_array_append_new(a, c->text
					     ? json_pack("{s:o, s:o}", "file", json_string(c->file),
							 "text", state_hex(c->text, c->text_len))
					     : json_pack("{s:b}", "quick", 1));
	}
	return a;
}

static json_t *build(void)
{
	nkept = 0;
	nconfigs = 0;
	json_t *root = json_pack("{s:i}", "format", STATE_FORMAT);
	for (size_t i = 0; i < nparts; i++)
		json_object_set_new(root, parts[i].name, parts[i].save());
	/* last: the parts above named the configs they refer to */
	json_object_set_new(root, "configs", configs_json());
	json_t *fds = json_array();
	for (size_t i = 0; i < nkept; i++)
		json_array_append_new(fds, json_integer(kept[i]));
	json_object_set_new(root, "fds", fds);
	free(saved_configs);
	saved_configs = NULL;
	return root;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int set_kept_cloexec(bool on)
{
	int r = 0;
	for (size_t i = 0; i < nkept; i++)
		if (fd_set_cloexec(kept[i], on) < 0)
			r = -1;
	return r;
}

int state_write(char *err, size_t len)
{
	json_t *root = build();
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	int fd = memfd_create("segue-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	const char *what = !text ? "encoding" : fd < 0 ? "memfd_create" : NULL;
	if (!what && write_all(fd, text, strlen(text)) < 0)
		what = "writing";
	if (!what &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		what = "sealing";
	if (!what && (set_kept_cloexec(false) < 0 || fd_set_cloexec(fd, false) < 0))
		what = "passing descriptors";
	free(text);
	if (!what)
		return fd;
	snprintf(err, len, "state: %s: %s", what, strerror(errno));
	if (fd >= 0 && close(fd) < 0)
		syswarn("closing the state");
	set_kept_cloexec(true);
	return -1;
}

void state_abandon(int fd)
{
	if (set_kept_cloexec(true) < 0)
		syswarn("state: making descriptors close-on-exec again");
	if (close(fd) < 0)
		syswarn("closing the state");
}

/* --- reading ------------------------------------------------------------- */

static char *read_all(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > MAX_STATE)
		return NULL;
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		/* pread: a fallback image reads the same memfd from its start */
		ssize_t r = pread(fd, buf + n, (size_t)st.st_size - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Descriptors the old image left open by mistake would leak into every
 * worker of the new one: all but those the state names go. */
static void close_unnamed(int state_fd, int keep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		syswarn("state: listing /proc/self/fd");
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || fd == state_fd ||
		    fd == keep || state_kept_fd(fd))
			continue;
		if (close(fd) < 0)
			syswarn("state: closing inherited descriptor %d", fd);
	}
	closedir(d);
}

static int read_fds(json_t *root, char *err, size_t len)
{
	json_t *fds = json_object_get(root, "fds"), *v;
	size_t i;
	nkept = 0;
	if (!json_is_array(fds)) {
		snprintf(err, len, "state: no list of descriptors");
		return -1;
	}
	json_array_foreach (fds, i, v) {
		int fd = (int)json_integer_value(v);
		if (!json_is_integer(v) || fd <= 2 || fcntl(fd, F_GETFD) < 0) {
			snprintf(err, len, "state: descriptor %d is not open", fd);
			return -1;
		}
		state_keep_fd(fd);
	}
	return 0;
}

static int read_configs(json_t *root, struct config *quick, const struct config_defaults *defs,
			char *err, size_t len)
{
	json_t *a = json_object_get(root, "configs"), *v;
	size_t i;
	nconfigs = json_array_size(a);
	restored_configs = xcalloc(nconfigs + 1, sizeof(*restored_configs));
	json_array_foreach (a, i, v) {
		char *text = NULL;
		size_t tlen = 0;
		const char *file = json_string_value(json_object_get(v, "file"));
		if (json_is_true(json_object_get(v, "quick")))
			restored_configs[i] = config_ref(quick);
		else if (file && state_unhex(json_object_get(v, "text"), &text, &tlen) == 0)
			restored_configs[i] = config_load_text(file, text, tlen, defs, stderr);
		free(text);
		if (!restored_configs[i]) {
			snprintf(err, len, "state: config %zu (%s) does not load", i,
				 file ? file : "quick mode");
			return -1;
		}
	}
	return 0;
}

static void forget_configs(void)
{
	for (size_t i = 0; i < nconfigs; i++)
		if (restored_configs[i])
			config_unref(restored_configs[i]);
	free(restored_configs);
	restored_configs = NULL;
	nconfigs = 0;
}

static int restore(json_t *root, int fd, int keep, struct config *quick,
		   const struct config_defaults *defs, char *err, size_t len)
{
	json_t *format = json_object_get(root, "format");
	if (!json_is_integer(format) || json_integer_value(format) < STATE_FORMAT_OLDEST ||
	    json_integer_value(format) > STATE_FORMAT) {
		snprintf(err, len, "state format %lld: this segue reads %d to %d",
			 (long long)json_integer_value(format), STATE_FORMAT_OLDEST, STATE_FORMAT);
		return -1;
	}
	if (read_fds(root, err, len) < 0)
		return -1;
	close_unnamed(fd, keep);
	if (read_configs(root, quick, defs, err, len) < 0)
		return -1;
	for (size_t i = 0; i < nparts; i++) {
		json_t *part = json_object_get(root, parts[i].name);
		if (!part && !parts[i].optional) {
			snprintf(err, len, "state: no part \"%s\"", parts[i].name);
			return -1;
		}
		if (parts[i].restore(part, err, len) < 0)
			return -1;
	}
	return 0;
}

int state_read(int fd, int keep, struct config *quick, const struct config_defaults *defs,
	       char *err, size_t len)
{
	size_t n = 0;
	char *text = read_all(fd, &n);
	json_error_t jerr;
	json_t *root = text ? json_loadb(text, n, 0, &jerr) : NULL;
	int r = -1;
	if (!root)
		snprintf(err, len, "state: %s", text ? jerr.text : "cannot be read");
	else
		r = restore(root, fd, keep, quick, defs, err, len);
	free(text);
	json_decref(root);
	forget_configs(); /* the restored parts hold their own references */
	return r;
}

void state_done(int fd)
{
	if (set_kept_cloexec(true) < 0)
		syswarn("state: making descriptors close-on-exec again");
	if (fd >= 0 && close(fd) < 0)
		syswarn("closing the state");
	free(kept);
	kept = NULL;
	nkept = keptcap = 0;
}
