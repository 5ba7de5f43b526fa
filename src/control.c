/* control.c: the control socket: clients, their requests and answers. */
/* SPDX-License-Identifier: MIT */
#include "control.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "core.h"
#include "model.h"
#include "reload.h"
#include "status.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum client_mode { CLIENT_REQUESTS, CLIENT_EVENTS, CLIENT_CLOSING };

struct client {
	struct client *next;
	int fd;
	enum client_mode mode;
	unsigned waiting_for; /* a reload's number, or 0 */
	bool resume;          /* its reload ended: the lines that waited are due */
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
	update_watcher(c);
	return 0;
}

static void append(struct client *c, const char *data, size_t len)
{
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

/* Queues one JSON line (stolen) and tries to send it. -1: client gone. */
static int answer(struct client *c, json_t *obj)
{
	char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(obj);
	if (!line)
		abort();
	append(c, line, strlen(line));
	append(c, "\n", 1);
	free(line);
	if (c->outlen - c->outpos > CONTROL_MAX_OUTPUT) {
		client_free(c); /* it does not read: dropped, never waited on */
		return -1;
	}
	return flush(c);
}

static int answer_error(struct client *c, const char *msg)
{
	return answer(c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* --- requests ------------------------------------------------------------ */

static int process_lines(struct client *c);

static json_t *result_answer(const struct reload_result *r)
{
	if (r->outcome == RELOAD_SUCCEEDED)
		return json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "reload", (json_int_t)r->id,
				 "generation", (json_int_t)r->generation, "duration_ms",
				 (json_int_t)(r->duration_ms + 0.5));
	return json_pack("{s:b, s:I, s:s}", "ok", 0, "reload", (json_int_t)r->id, "error",
			 r->reason);
}

static int do_reload(struct client *c, const struct request *r)
{
	char err[256] = "segue is stopping";
	unsigned id = r->kind == REQ_ROLLBACK ? core_rollback("control: rollback", err, sizeof(err))
					      : core_reload("control");
	if (!id)
		return answer_error(c, err);
	if (!r->wait)
		return answer(c, json_pack("{s:b, s:I}", "ok", 1, "reload", (json_int_t)id));
	/* The reload may have ended already (a rejected config). */
	const struct reload_result *last = reload_last_result();
	if (last && last->id >= id)
		return answer(c, result_answer(last));
	c->waiting_for = id;
	ev_timer_stop(EV_DEFAULT, &c->idle);
	return 0;
}

static int do_scale(struct client *c, const struct request *r)
{
	char err[256];
	if (core_scale(r->program, r->number, "control", err, sizeof(err)) < 0)
		return answer_error(c, err);
	return answer(c, json_pack("{s:b, s:s, s:i}", "ok", 1, "program", r->program, "desired",
				   r->number));
}

static int do_signal(struct client *c, const struct request *r)
{
	char err[256];
	int n = core_signal(r->program, r->signal, err, sizeof(err));
	if (n < 0)
		return answer_error(c, err);
	return answer(c, json_pack("{s:b, s:s, s:i}", "ok", 1, "program", r->program,
				   "signalled", n));
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
		return answer_error(c, "upgrade is not supported by this version yet");
	case REQ_STOP:
		if (answer(c, json_pack("{s:b}", "ok", 1)) < 0)
			return -1;
		core_stop(model->stopping);
		return 0;
	case REQ_METRICS:
		return do_metrics(c);
	case REQ_EVENTS:
		/* The first line says the subscription holds: a client can
		 * then act knowing it will see what follows. */
		if (answer(c, json_pack("{s:b, s:b}", "ok", 1, "events", 1)) < 0)
			return -1;
		c->mode = CLIENT_EVENTS;
		ev_timer_stop(EV_DEFAULT, &c->idle);
		return 0;
	case REQ_VERSION:
		return answer(c, json_pack("{s:b, s:s}", "ok", 1, "version", PACKAGE_VERSION));
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

static void answer_waiting(const struct reload_result *r)
{
	for (struct client *c = clients, *next; c; c = next) {
		next = c->next;
		if (!c->waiting_for || c->waiting_for > r->id)
			continue;
		c->waiting_for = 0;
		if (answer(c, result_answer(r)) == 0 && c->mode == CLIENT_REQUESTS) {
			ev_timer_again(EV_DEFAULT, &c->idle);
			c->resume = true;
			ev_idle_start(EV_DEFAULT, &resume_idle);
		}
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
	if (is_reload_end(name) && r && json_integer_value(json_object_get(event, "reload")) ==
						(json_int_t)r->id)
		answer_waiting(r);
}

/* --- accepting ----------------------------------------------------------- */

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
	gid_t groups[256];
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == allowed_gid)
			return true;
	return false;
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
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				syswarn("control: accept");
			return;
		}
		accept_one(fd);
	}
}

/* --- the socket ---------------------------------------------------------- */

/* Creates the socket's directory (and missing parents, 0755) with mode
 * 0700, or 0750 for control-group, whose members must reach the socket.
 * An existing directory of segue's own gets the group too. */
static int make_directory(const char *path, char *err, size_t errlen)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	mode_t mode = allowed_gid != (gid_t)-1 ? 0750 : 0700;
	int r = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -1;
		*p = '/';
		if (r < 0)
			break;
	}
	struct stat st;
	if (r == 0 && mkdir(dir, mode) < 0 && errno != EEXIST)
		r = -1;
	if (r == 0 && allowed_gid != (gid_t)-1 && stat(dir, &st) == 0 && st.st_uid == geteuid() &&
	    (chown(dir, (uid_t)-1, allowed_gid) < 0 || chmod(dir, (st.st_mode & 0777) | 0050) < 0))
		r = -1;
	if (r < 0)
		snprintf(err, errlen, "creating %s: %s", dir, strerror(errno));
	free(copy);
	return r;
}

static int bind_socket(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Nobody may connect before the mode and group are right. */
	mode_t old = umask(0777);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	const char *what = "bind";
	if (r < 0)
		goto fail;
	what = "chown";
	if (allowed_gid != (gid_t)-1 && chown(path, (uid_t)-1, allowed_gid) < 0)
		goto fail;
	what = "chmod";
	if (chmod(path, mode) < 0)
		goto fail;
	what = "listen";
	if (listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	close(fd);
	return -1;
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
	if (make_directory(path, err, errlen) < 0 ||
	    listen_remove_stale_unix(path, err, errlen) < 0)
		return -1;
	listen_fd = bind_socket(path, mode, err, errlen);
	if (listen_fd < 0)
		return -1;
	socket_path = xstrdup(path);
	ev_io_init(&accept_io, accept_cb, listen_fd, EV_READ);
	ev_io_start(EV_DEFAULT, &accept_io);
	ev_idle_init(&resume_idle, resume_cb);
	event_subscribe(on_event, NULL);
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
}
