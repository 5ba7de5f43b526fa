/* control.c: the control socket: clients, their requests and answers. */
/* SPDX-License-Identifier: MIT */
#include "control.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "core.h"
#include "model.h"
#include "reload.h"
#include "state.h"
#include "status.h"
#include "utf8.h"
#include "watch.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* waiting_for of a client that asked for an upgrade: the image that serves
 * afterwards answers it. */
#define WAIT_UPGRADE UINT_MAX
/* waiting_for of a client whose reload succeeded and that waits through
 * its watch window (reload watch): `watching` names the reload. */
#define WAIT_WATCH (UINT_MAX - 1)

enum client_mode { CLIENT_REQUESTS, CLIENT_EVENTS, CLIENT_CLOSING };

struct client {
	struct client *next;
	int fd;
	enum client_mode mode;
	unsigned waiting_for; /* a reload's number, WAIT_UPGRADE, WAIT_WATCH, or 0 */
	bool watch;	      /* asked for reload watch */
	unsigned watching;    /* WAIT_WATCH: the reload whose window it waits for */
	bool resume;	      /* its reload ended: the lines that waited are due */
	ev_io io;
	ev_timer idle;
	char in[PROTO_MAX_LINE + 1];
	size_t inlen;
	char *out;
	size_t outlen, outpos, outcap;
};

static int listen_fd = -1;
static char *socket_path;
static gid_t allowed_gid = (gid_t)-1;
static ev_io accept_io;
static ev_timer accept_pause; /* only while descriptors run out */
#define ACCEPT_PAUSE 0.1
static struct client *clients;
static unsigned nclients;
static ev_idle resume_idle; /* handles the lines of clients whose reload ended */

/* --- output -------------------------------------------------------------- */

static void client_free(struct client *c)
{
	for (struct client **pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ev_io_stop(EV_DEFAULT, &c->io);
	ev_timer_stop(EV_DEFAULT, &c->idle);
	close(c->fd);
	free(c->out);
	free(c);
	nclients--;
}

static void update_watcher(struct client *c)
{
	int want = c->outpos < c->outlen ? EV_WRITE : 0;
	if (c->mode != CLIENT_CLOSING && c->inlen < sizeof(c->in) - 1)
		want |= EV_READ;
	if ((c->io.events & (EV_READ | EV_WRITE)) == want)
		return;
	ev_io_stop(EV_DEFAULT, &c->io);
	ev_io_set(&c->io, c->fd, want);
	if (want)
		ev_io_start(EV_DEFAULT, &c->io);
}

/* Writes what it can without blocking. Returns -1 when the client is
 * gone (and freed). */
static int flush(struct client *c)
{
	while (c->outpos < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outpos, c->outlen - c->outpos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_free(c);
			return -1;
		}
		c->outpos += (size_t)n;
		ev_timer_again(EV_DEFAULT, &c->idle);
	}
	if (c->outpos == c->outlen) {
		c->outpos = c->outlen = 0;
		if (c->mode == CLIENT_CLOSING) {
			client_free(c);
			return -1;
		}
	}
	/* A stream or a wait is idle by nature: its clock runs only while it
	 * does not take what it was sent. */
	if ((c->mode == CLIENT_EVENTS || c->waiting_for) && c->outpos == c->outlen)
		ev_timer_stop(EV_DEFAULT, &c->idle);
	else if (!ev_is_active(&c->idle))
		ev_timer_again(EV_DEFAULT, &c->idle);
	update_watcher(c);
	return 0;
}

static void append(struct client *c, const char *data, size_t len)
{
	if (len == 0)
		return; /* nothing, and maybe no buffer yet */
	if (c->outlen + len > c->outcap) {
		if (c->outpos > 0) {
			memmove(c->out, c->out + c->outpos, c->outlen - c->outpos);
			c->outlen -= c->outpos;
			c->outpos = 0;
		}
		if (c->outlen + len > c->outcap) {
			c->outcap = (c->outlen + len) * 2;
			c->out = xrealloc(c->out, c->outcap);
		}
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

/* Queues one JSON line (stolen) and tries to send it. -1: client gone.
 * An answer, however large (status of 10,000 workers), is queued whole;
 * a client that has not read what it was sent before is dropped. */
static int answer(struct client *c, json_t *obj)
{
	char *line =
	    obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
		: NULL;
	json_decref(obj);
	if (!line) {
		warn("control: an answer could not be built");
		line = xstrdup(
		    "{\"ok\":false,\"error\":\"internal error: the answer could not be built\"}");
	}
	if (c->outlen - c->outpos > CONTROL_MAX_OUTPUT) {
		free(line);
		client_free(c); /* it does not read: dropped, never waited on */
		return -1;
	}
	append(c, line, strlen(line));
	append(c, "\n", 1);
	free(line);
	return flush(c);
}

static int answer_error(struct client *c, const char *msg)
{
	return answer(c, json_pack("{s:b, s:o}", "ok", 0, "error", json_string_utf8(msg)));
}

/* --- requests ------------------------------------------------------------ */

static int process_lines(struct client *c);

/* Clients that stream events or wait for a reload hold their place for
 * long: they may not take the last places, which stay for status,
 * health and stop. */
static bool streaming_full(void)
{
	unsigned n = 0;
	for (const struct client *c = clients; c; c = c->next)
		n += c->mode == CLIENT_EVENTS || c->waiting_for;
	return n >= CONTROL_MAX_CLIENTS - CONTROL_RESERVED;
}

static const char streaming_refused[] =
    "too many clients stream events or wait for reloads: try again later";

static json_t *result_answer(const struct reload_result *r)
{
	if (r->outcome == RELOAD_SUCCEEDED)
		return json_pack("{s:b, s:I, s:I, s:o, s:I, s:o}", "ok", 1, "reload",
				 (json_int_t)r->id, "generation", (json_int_t)r->generation,
				 "release", json_string_utf8(r->release), "duration_ms",
				 (json_int_t)(r->duration_ms + 0.5), "message",
				 json_sprintf("generation %u serving%s%s", r->generation,
					      *r->release ? " release " : "", r->release));
	return json_pack("{s:b, s:I, s:o}", "ok", 0, "reload", (json_int_t)r->id, "error",
			 json_string_utf8(r->reason));
}

static int do_reload(struct client *c, const struct request *r)
{
	if (r->wait && streaming_full())
		return answer_error(c, streaming_refused);
	char err[256] = "segue is stopping", rollback_release[256];
	/* the release it goes back to, before the rollback moves it on */
	snprintf(rollback_release, sizeof(rollback_release), "%s", reload_previous_release());
	unsigned id = r->kind == REQ_ROLLBACK ? core_rollback("control: rollback", err, sizeof(err))
					      : core_reload("control");
	if (!id)
		return answer_error(c, err);
	if (!r->wait && r->kind == REQ_ROLLBACK)
		return answer(c, json_pack("{s:b, s:I, s:o}", "ok", 1, "reload", (json_int_t)id,
					   "release", json_string_utf8(rollback_release)));
	if (!r->wait)
		return answer(c, json_pack("{s:b, s:I}", "ok", 1, "reload", (json_int_t)id));
	/* The reload may have ended already (a rejected config, a generation
	 * of no workers), and its watch window may have begun. */
	const struct reload_result *last = reload_last_result();
	double left;
	if (last && last->id >= id && r->watch && last->id == id && watch_running(&left) == id) {
		c->waiting_for = WAIT_WATCH;
		c->watching = id;
		ev_timer_stop(EV_DEFAULT, &c->idle);
		return 0;
	}
	if (last && last->id >= id)
		return answer(c, result_answer(last));
	c->waiting_for = id;
	c->watch = r->watch;
	ev_timer_stop(EV_DEFAULT, &c->idle);
	return 0;
}

static int do_scale(struct client *c, const struct request *r)
{
	char err[256];
	if (core_scale(r->program, r->number, "control", err, sizeof(err)) < 0)
		return answer_error(c, err);
	return answer(
	    c, json_pack("{s:b, s:s, s:i}", "ok", 1, "program", r->program, "desired", r->number));
}

static int do_signal(struct client *c, const struct request *r)
{
	char err[256];
	int n = core_signal(r->program, r->signal, err, sizeof(err));
	if (n < 0)
		return answer_error(c, err);
	return answer(c,
		      json_pack("{s:b, s:s, s:i}", "ok", 1, "program", r->program, "signalled", n));
}

static int do_upgrade(struct client *c)
{
	char err[256];
	if (core_upgrade(err, sizeof(err)) < 0)
		return answer_error(c, err);
	c->waiting_for = WAIT_UPGRADE;
	ev_timer_stop(EV_DEFAULT, &c->idle);
	return 0;
}

static int do_metrics(struct client *c)
{
	char *text = metrics_text();
	append(c, text, strlen(text));
	free(text);
	c->mode = CLIENT_CLOSING;
	return flush(c);
}

static int dispatch(struct client *c, const struct request *r)
{
	switch (r->kind) {
	case REQ_STATUS:
		return answer(c, status_json());
	case REQ_HEALTH:
		return answer(c, health_json());
	case REQ_RELOAD:
	case REQ_ROLLBACK:
		return do_reload(c, r);
	case REQ_SCALE:
		return do_scale(c, r);
	case REQ_SIGNAL:
		return do_signal(c, r);
	case REQ_UPGRADE:
		return do_upgrade(c);
	case REQ_STOP:
		if (answer(c, json_pack("{s:b}", "ok", 1)) < 0)
			return -1;
		core_stop(model->stopping);
		return 0;
	case REQ_METRICS:
		return do_metrics(c);
	case REQ_EVENTS:
		if (streaming_full())
			return answer_error(c, streaming_refused);
		/* The first line says the subscription holds: a client can
		 * then act knowing it will see what follows. */
		if (answer(c, json_pack("{s:b, s:b}", "ok", 1, "events", 1)) < 0)
			return -1;
		c->mode = CLIENT_EVENTS;
		ev_timer_stop(EV_DEFAULT, &c->idle);
		return 0;
	case REQ_VERSION:
		return answer(c, json_pack("{s:b, s:s}", "ok", 1, "version", segue_version));
	}
	return answer_error(c, "unknown request");
}

/* Handles every complete line, unless the client is waiting for a reload
 * or streaming events: then the rest waits. -1: client gone. */
static int process_lines(struct client *c)
{
	while (c->mode == CLIENT_REQUESTS && !c->waiting_for) {
		char *nl = memchr(c->in, '\n', c->inlen);
		if (!nl)
			break;
		size_t len = (size_t)(nl - c->in);
		struct request r;
		char err[256];
		int rc = proto_parse(c->in, len, &r, err, sizeof(err)) < 0 ? answer_error(c, err)
									   : dispatch(c, &r);
		if (rc < 0)
			return -1;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	return 0;
}

static void client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A half-closed client still gets the answers it asked for. */
		if (n == 0 && (c->outpos < c->outlen || c->waiting_for)) {
			c->mode = CLIENT_CLOSING;
			update_watcher(c);
			return;
		}
		client_free(c);
		return;
	}
	c->inlen += (size_t)n;
	if (c->mode == CLIENT_EVENTS) {
		c->inlen = 0; /* an events client has nothing more to say */
		return;
	}
	ev_timer_again(EV_DEFAULT, &c->idle);
	if (process_lines(c) < 0)
		return;
	if (c->inlen == sizeof(c->in) - 1 && !memchr(c->in, '\n', c->inlen) && !c->waiting_for) {
		c->mode = CLIENT_CLOSING;
		c->inlen = 0;
		answer_error(c, "request longer than 4096 bytes: closing");
		return;
	}
	update_watcher(c);
}

static void client_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct client *c = io->data;
	if ((revents & EV_WRITE) && flush(c) < 0)
		return;
	if (revents & EV_READ)
		client_read(c);
}

static void idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct client *c = t->data;
	if (c->mode == CLIENT_REQUESTS && !c->waiting_for) {
		c->mode = CLIENT_CLOSING;
		answer_error(c, "idle for 10 s: closing");
		return;
	}
	client_free(c); /* could not even take its last answer */
}

/* --- events and reload answers ------------------------------------------- */

static bool is_reload_end(const char *name)
{
	return strcmp(name, "reload_succeeded") == 0 || strcmp(name, "reload_failed") == 0 ||
	       strcmp(name, "config_rejected") == 0;
}

/* Clients whose reload ended go on with the lines that waited: from the
 * loop, not from inside the reload that just ended. */
static void resume_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (!c->resume)
			continue;
		c->resume = false;
		if (process_lines(c) == 0)
			update_watcher(c);
		next = clients; /* a request may have changed the list: walk again */
	}
}

/* A waiting client gets its answer and goes on with its next lines. */
static void answer_waiter(struct client *c, json_t *a)
{
	c->waiting_for = 0;
	c->watch = false;
	if (answer(c, a) == 0 && c->mode == CLIENT_REQUESTS) {
		ev_timer_again(EV_DEFAULT, &c->idle);
		c->resume = true;
		ev_idle_start(EV_DEFAULT, &resume_idle);
	}
}

/* A client waiting for the window of a reload older than r, which ended:
 * that window ended early, or never began (a queued reload committed in
 * the same breath). */
static json_t *window_gone(unsigned watching, const struct reload_result *r)
{
	return json_pack(
	    "{s:b, s:I, s:s, s:o}", "ok", 0, "reload", (json_int_t)watching, "watch", "ended",
	    "error",
	    json_sprintf("the watch of reload %u ended early: reload %u ended", watching, r->id));
}

static void answer_waiting(const struct reload_result *r)
{
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (c->waiting_for == WAIT_WATCH && c->watching < r->id) {
			answer_waiter(c, window_gone(c->watching, r));
			continue;
		}
		if (!c->waiting_for || c->waiting_for > r->id)
			continue;
		if (c->watch && c->waiting_for == r->id && watch_follows(r)) {
			c->waiting_for = WAIT_WATCH;
			c->watching = r->id;
			continue;
		}
		answer_waiter(c, result_answer(r));
	}
}

/* The end of a watch window, for reload watch: watch_passed, or why not. */
static json_t *watch_answer(const char *name, json_t *event)
{
	json_t *reload = json_object_get(event, "reload"), *msg = json_object_get(event, "msg");
	if (strcmp(name, "watch_passed") == 0)
		return json_pack("{s:b, s:O?, s:O?, s:O?, s:s, s:O?}", "ok", 1, "reload", reload,
				 "generation", json_object_get(event, "generation"), "release",
				 json_object_get(event, "release"), "watch", "passed", "message",
				 msg);
	return json_pack("{s:b, s:O?, s:s, s:O?}", "ok", 0, "reload", reload, "watch",
			 strcmp(name, "auto_rollback") == 0  ? "rolled back"
			 : strcmp(name, "watch_failed") == 0 ? "failed"
							     : "ended",
			 "error", msg);
}

static void answer_watching(const char *name, json_t *event)
{
	json_int_t id = json_integer_value(json_object_get(event, "reload"));
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (c->waiting_for == WAIT_WATCH && (json_int_t)c->watching == id)
			answer_waiter(c, watch_answer(name, event));
	}
}

static json_t *upgrade_answer(const char *name, json_t *event)
{
	if (strcmp(name, "upgrade_succeeded") == 0)
		return json_pack(
		    "{s:b, s:O?, s:O?, s:O?, s:O?}", "ok", 1, "pid", json_object_get(event, "pid"),
		    "from", json_object_get(event, "from"), "version", json_object_get(event, "to"),
		    "message", json_object_get(event, "msg"));
	const char *why = json_string_value(json_object_get(event, "reason"));
	return json_pack("{s:b, s:o}", "ok", 0, "error", json_string_utf8(why ? why : "unknown"));
}

static void answer_upgrade(const char *name, json_t *event)
{
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (c->waiting_for == WAIT_UPGRADE)
			answer_waiter(c, upgrade_answer(name, event));
	}
}

static void on_event(const char *name, json_t *event, void *data)
{
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (c->mode == CLIENT_EVENTS)
			answer(c, json_incref(event));
	}
	const struct reload_result *r = reload_last_result();
	if (is_reload_end(name) && r &&
	    json_integer_value(json_object_get(event, "reload")) == (json_int_t)r->id)
		answer_waiting(r);
	if (strcmp(name, "upgrade_succeeded") == 0 || strcmp(name, "upgrade_failed") == 0)
		answer_upgrade(name, event);
	if (strcmp(name, "watch_passed") == 0 || strcmp(name, "auto_rollback") == 0 ||
	    strcmp(name, "watch_ended") == 0 || strcmp(name, "watch_failed") == 0)
		answer_watching(name, event);
}

/* --- accepting ----------------------------------------------------------- */

/* The peer's supplementary groups hold control-group. The kernel says
 * how much room they need: a member of 1,000 groups is checked too. */
static bool in_peer_groups(int fd)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *groups = NULL;
	int r = -1;
	/* ERANGE sets len to the room needed; the groups may grow meanwhile */
	for (int tries = 0; tries < 4 && (tries == 0 || errno == ERANGE); tries++) {
		groups = xrealloc(groups, len ? len : sizeof(gid_t));
		if ((r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) == 0)
			break;
	}
	bool found = false;
	for (size_t i = 0; r == 0 && i < len / sizeof(gid_t); i++)
		found |= groups[i] == allowed_gid;
	free(groups);
	return found;
}

static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (allowed_gid == (gid_t)-1)
		return false;
	if (cred.gid == allowed_gid)
		return true;
	return in_peer_groups(fd);
}

static void refuse(int fd, const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n", msg);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		debug("refused control client did not take its answer");
	close(fd);
}

/* At the limit, the oldest client that only holds its connection open
 * makes room: idle connections must not lock operators out. */
static bool evict_idle_client(void)
{
	struct client *oldest = NULL;
	for (struct client *c = clients; c; c = c->next)
		if (c->mode == CLIENT_REQUESTS && !c->waiting_for && c->outpos == c->outlen)
			oldest = c; /* clients are listed newest first */
	if (!oldest)
		return false;
	oldest->mode = CLIENT_CLOSING;
	answer_error(oldest, "too many clients: closing the oldest idle connection");
	return true;
}

static struct client *client_new(int fd)
{
	struct client *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	ev_io_init(&c->io, client_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(EV_DEFAULT, &c->io);
	ev_init(&c->idle, idle_cb);
	c->idle.repeat = CONTROL_IDLE_SECONDS;
	c->idle.data = c;
	ev_timer_again(EV_DEFAULT, &c->idle);
	c->next = clients;
	clients = c;
	nclients++;
	return c;
}

static void accept_one(int fd)
{
	uid_t uid = (uid_t)-1;
	if (!peer_allowed(fd, &uid)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "permission denied: uid %ld may not use this socket",
			 (long)uid);
		warn("control: %s", msg);
		refuse(fd, msg);
		return;
	}
	if (nclients >= CONTROL_MAX_CLIENTS && !evict_idle_client()) {
		refuse(fd, "too many clients: try again later");
		return;
	}
	client_new(fd);
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_io_start(loop, &accept_io);
}

/* Out of descriptors: accept() would fail at once for ever, and a level-
 * triggered watcher would spin. Pause accepting a moment, say so at most
 * once a second. */
static void pause_accepting(void)
{
	static double warned;
	double now = now_mono();
	if (now - warned >= 1.0) {
		warned = now;
		syswarn("control: accept (pausing new connections for %gs)", ACCEPT_PAUSE);
	}
	ev_io_stop(EV_DEFAULT, &accept_io);
	ev_timer_set(&accept_pause, ACCEPT_PAUSE, 0);
	ev_timer_start(EV_DEFAULT, &accept_pause);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			accept_one(fd);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			   errno == ENOMEM) {
			pause_accepting();
			return;
		} else {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				syswarn("control: accept");
			return;
		}
	}
}

/* --- the socket ---------------------------------------------------------- */

/* Missing parents of dir are made 0755; existing ones are left alone. */
static int make_parents(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(dir, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* A directory segue did not make is used only when nobody but root and
 * segue's user can replace what is in it. */
static bool safe_directory(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) &&
	       (!(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX));
}

/* Sets the mode and group of the directory segue just made, or checks
 * the one it found, through fd (opened without following symlinks). */
static int settle_directory(int fd, bool made, mode_t mode, const char *dir, char *err,
			    size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (made)
		return (allowed_gid != (gid_t)-1 && fchown(fd, (uid_t)-1, allowed_gid) < 0) ||
			       fchmod(fd, mode) < 0
			   ? -1
			   : 0;
	if (safe_directory(&st))
		return 0;
	snprintf(err, errlen,
		 "directory %s: owned by uid %ld with mode %04o: others could "
		 "replace the control socket",
		 dir, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
	return -2;
}

/* The socket's directory: made 0700, or 0750 for control-group (whose
 * members must reach the socket), when missing. Only a directory segue
 * made gets a mode and group; an existing one is checked, never changed. */
static int make_directory(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (!*dir)
		strcpy(dir, "/");
	mode_t mode = allowed_gid != (gid_t)-1 ? 0750 : 0700;
	bool made = false;
	int fd = -1, r = -1;
	if (make_parents(dir) == 0 && ((made = mkdir(dir, mode) == 0) || errno == EEXIST) &&
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
		r = settle_directory(fd, made, mode, dir, err, errlen);
	if (r == -1)
		snprintf(err, errlen, "directory %s: %s", dir, strerror(errno));
	if (fd >= 0 && close(fd) < 0)
		syswarn("closing %s", dir);
	free(dir);
	return r < 0 ? -1 : 0;
}

static void start_accepting(void)
{
	ev_io_init(&accept_io, accept_cb, listen_fd, EV_READ);
	ev_io_start(EV_DEFAULT, &accept_io);
	ev_timer_init(&accept_pause, accept_resume_cb, ACCEPT_PAUSE, 0);
	ev_idle_init(&resume_idle, resume_cb);
	event_subscribe(on_event, NULL);
}

int control_open(const char *path, mode_t mode, const char *group, char *err, size_t errlen)
{
	if (group && *group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "control-group: unknown group \"%s\"", group);
			return -1;
		}
		allowed_gid = gr->gr_gid;
	}
	if (make_directory(path, err, errlen) < 0)
		return -1;
	listen_fd = listen_unix(path, mode, (uid_t)-1, allowed_gid, CONTROL_MAX_CLIENTS,
				SOCK_NONBLOCK, err, errlen);
	if (listen_fd < 0)
		return -1;
	socket_path = xstrdup(path);
	start_accepting();
	return 0;
}

void control_close(void)
{
	if (listen_fd < 0)
		return;
	while (clients)
		client_free(clients);
	event_unsubscribe(on_event, NULL);
	ev_io_stop(EV_DEFAULT, &accept_io);
	close(listen_fd);
	listen_fd = -1;
	unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
	ev_idle_stop(EV_DEFAULT, &resume_idle);
	ev_timer_stop(EV_DEFAULT, &accept_pause);
}

/* --- across an upgrade in place ------------------------------------------ */

static bool waits_for_reload(const struct client *c)
{
	return c->waiting_for && c->waiting_for != WAIT_UPGRADE && c->waiting_for != WAIT_WATCH;
}

/* Clients that stream events or wait for the upgrade's answer, a reload
 * (an upgrade lets none run but a held canary) or a watch window go on in
 * the next image, with what was not sent to them yet; the others are
 * closed by the exec, as between two requests: they connect again. */
static json_t *client_save(const struct client *c)
{
	state_keep_fd(c->fd);
	return json_pack("{s:i, s:b, s:b, s:I, s:I, s:b, s:o}", "fd", c->fd, "events",
			 c->mode == CLIENT_EVENTS, "upgrade", c->waiting_for == WAIT_UPGRADE,
			 "watching", (json_int_t)(c->waiting_for == WAIT_WATCH ? c->watching : 0),
			 "reload", (json_int_t)(waits_for_reload(c) ? c->waiting_for : 0), "watch",
			 c->watch, "out",
			 state_hex(c->out ? c->out + c->outpos : "", c->outlen - c->outpos));
}

json_t *control_save(void)
{
	json_t *a = json_array();
	for (const struct client *c = clients; c; c = c->next)
		if (c->mode == CLIENT_EVENTS || c->waiting_for) /* an upgrade, a reload, a watch */
			json_array_append_new(a, client_save(c));
	state_keep_fd(listen_fd);
	return json_pack("{s:i, s:s, s:I, s:o}", "fd", listen_fd, "path", socket_path, "gid",
			 (json_int_t)allowed_gid, "clients", a);
}

static void client_restore(json_t *j)
{
	int fd = (int)json_integer_value(json_object_get(j, "fd"));
	if (!state_kept_fd(fd))
		return;
	struct client *c = client_new(fd);
	if (json_is_true(json_object_get(j, "events"))) {
		c->mode = CLIENT_EVENTS;
		ev_timer_stop(EV_DEFAULT, &c->idle);
	}
	if (json_is_true(json_object_get(j, "upgrade"))) {
		c->waiting_for = WAIT_UPGRADE;
		ev_timer_stop(EV_DEFAULT, &c->idle);
	}
	json_int_t reload = json_integer_value(json_object_get(j, "reload"));
	if (reload > 0 && reload < WAIT_WATCH) { /* a reload an upgrade let go on: a held canary */
		c->waiting_for = (unsigned)reload;
		c->watch = json_is_true(json_object_get(j, "watch"));
		ev_timer_stop(EV_DEFAULT, &c->idle);
	}
	json_int_t watching = json_integer_value(json_object_get(j, "watching"));
	if (watching > 0 && watching < WAIT_WATCH) {
		c->waiting_for = WAIT_WATCH;
		c->watching = (unsigned)watching;
		ev_timer_stop(EV_DEFAULT, &c->idle);
	}
	char *out;
	size_t n;
	if (state_unhex(json_object_get(j, "out"), &out, &n) == 0) {
		append(c, out, n);
		free(out);
		update_watcher(c);
	}
}

int control_restore(json_t *j, char *err, size_t len)
{
	int fd = (int)json_integer_value(json_object_get(j, "fd"));
	const char *path = json_string_value(json_object_get(j, "path"));
	if (!state_kept_fd(fd) || !path) {
		snprintf(err, len, "state: no control socket");
		return -1;
	}
	listen_fd = fd;
	socket_path = xstrdup(path);
	allowed_gid = (gid_t)json_integer_value(json_object_get(j, "gid"));
	start_accepting();
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(j, "clients"), i, c)
		client_restore(c);
	return 0;
}

const char *control_path(void)
{
	return socket_path;
}
