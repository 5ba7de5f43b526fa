/* admin.c: the read-only admin HTTP endpoint: /health, /ready, /metrics, /status. */
/* SPDX-License-Identifier: MIT */
#include "admin.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "model.h"
#include "state.h"
#include "status.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* While a client has this much unsent, its next requests wait unread. */
#define MAX_UNSENT   (1 << 20)
#define ACCEPT_PAUSE 0.1
/* How long what a refused client still sends is read and dropped. */
#define LINGER_SECONDS 2.0

struct listener {
	int fd;
	char *listen; /* as written in admin-listen */
	ev_io io;
};

struct client {
	struct client *next;
	int fd;
	bool closing;  /* its last answer is queued: closed once it is sent */
	bool eof;      /* it sends no more: closed once its answers are sent */
	bool linger;   /* refused: once answered, what it still sends is dropped */
	bool draining; /* answered and shut down for writing: reading to its end */
	ev_io io;
	ev_timer idle;
	size_t inlen;
	char in[HTTP_MAX_REQUEST];
	char *out;
	size_t sent, queued, room; /* out[sent, queued) is due */
};

static struct listener listeners[ADMIN_MAX_LISTENERS];
static size_t nlisteners;
static struct client *clients;
static unsigned nclients;
static ev_timer accept_pause; /* only while descriptors run out */
static bool subscribed;

/* --- clients ------------------------------------------------------------- */

static void client_free(struct client *c)
{
	struct client **pp = &clients;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	ev_io_stop(EV_DEFAULT, &c->io);
	ev_timer_stop(EV_DEFAULT, &c->idle);
	if (close(c->fd) < 0)
		syswarn("admin: closing a client");
	free(c->out);
	free(c);
	nclients--;
}

static void queue(struct client *c, const char *data, size_t len)
{
	if (len == 0)
		return; /* nothing, and maybe no buffer yet: no memcpy to NULL */
	if (c->sent > 0 && c->sent == c->queued)
		c->sent = c->queued = 0;
	if (len > c->room - c->queued) {
		c->room = c->queued + len + 4096;
		c->out = xrealloc(c->out, c->room);
	}
	memcpy(c->out + c->queued, data, len);
	c->queued += len;
}

/* The events a client waits for: reading while it may send another
 * request, writing while an answer is due. */
static void watch_client(struct client *c)
{
	bool unsent = c->queued > c->sent;
	bool more = c->draining || (!c->closing && !c->eof && c->inlen < sizeof(c->in) &&
				    c->queued - c->sent < MAX_UNSENT);
	int want = (unsent ? EV_WRITE : 0) | (more ? EV_READ : 0);
	if (want != (c->io.events & (EV_READ | EV_WRITE))) {
		/* libev changes a watcher's events only while it is stopped */
		ev_io_stop(EV_DEFAULT, &c->io);
		ev_io_modify(&c->io, want);
		if (want)
			ev_io_start(EV_DEFAULT, &c->io);
	}
}

/* --- answers ------------------------------------------------------------- */

struct answer {
	int status;
	const char *type;
	char *body; /* malloc'd */
	size_t len;
};

static void json_answer(struct answer *a, json_t *obj, int status)
{
	char *text =
	    obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
		: NULL;
	json_decref(obj);
	a->type = "application/json";
	if (!text) {
		warn("admin: an answer could not be built");
		a->status = 500;
		text = xstrdup("{\"ok\":false,\"error\":\"internal error\"}");
	} else {
		a->status = status;
	}
	a->body = xasprintf("%s\n", text);
	a->len = strlen(a->body);
	free(text);
}

static void error_answer(struct answer *a, int status)
{
	json_answer(a, json_pack("{s:b, s:s}", "ok", 0, "error", http_reason(status)), status);
}

static void ready_answer(struct answer *a)
{
	const struct generation *g = model->serving;
	bool ready = g && !model->stopping && model_generation_ready(g);
	json_answer(
	    a,
	    json_pack("{s:b, s:I}", "ready", ready, "generation", (json_int_t)(g ? g->number : 0)),
	    ready ? 200 : 503);
}

static void route(struct answer *a, const char *path, size_t len)
{
	if (len == 7 && memcmp(path, "/health", 7) == 0) {
		json_t *h = health_json();
		json_answer(a, h, json_is_true(json_object_get(h, "ok")) ? 200 : 503);
	} else if (len == 6 && memcmp(path, "/ready", 6) == 0) {
		ready_answer(a);
	} else if (len == 8 && memcmp(path, "/metrics", 8) == 0) {
		a->status = 200;
		a->type = "text/plain; version=0.0.4; charset=utf-8";
		a->body = metrics_text();
		a->len = strlen(a->body);
	} else if (len == 7 && memcmp(path, "/status", 7) == 0) {
		json_answer(a, status_json(), 200);
	} else {
		error_answer(a, 404);
	}
}

/* Queues one answer: its head, and its body unless head_only. */
static void send_answer(struct client *c, const struct answer *a, bool head_only, int minor,
			bool keep_alive)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n%s%s\r\n",
			 a->status, http_reason(a->status), a->type, a->len,
			 a->status == 405 ? "Allow: GET, HEAD\r\n" : "",
			 !keep_alive  ? "Connection: close\r\n"
			 : minor == 0 ? "Connection: keep-alive\r\n"
				      : "");
	queue(c, head, (size_t)n);
	if (!head_only)
		queue(c, a->body, a->len);
	free(a->body);
	if (!keep_alive)
		c->closing = true;
}

static void answer_request(struct client *c, const struct http_request *r)
{
	struct answer a = {0};
	if (r->method == HTTP_OTHER)
		error_answer(&a, 405);
	else
		route(&a, c->in + r->path, r->path_len);
	send_answer(c, &a, r->method == HTTP_HEAD, r->minor, r->keep_alive);
}

/* Answers every whole request read so far, in order, until one closes the
 * connection or too much is unsent. */
static void serve_requests(struct client *c)
{
	while (!c->closing && c->queued - c->sent < MAX_UNSENT) {
		struct http_request r;
		enum http_parse_result p = http_parse(c->in, c->inlen, &r);
		if (p == HTTP_INCOMPLETE)
			break;
		if (p == HTTP_ERROR) {
			struct answer a = {0};
			error_answer(&a, r.status);
			send_answer(c, &a, false, 1, false);
			c->inlen = 0;
			c->linger = true;
			break;
		}
		answer_request(c, &r);
		memmove(c->in, c->in + r.length, c->inlen - r.length);
		c->inlen -= r.length;
	}
}

/* --- I/O ----------------------------------------------------------------- */

/* Sends what the socket takes. Returns -1 when the client is gone. */
static int flush_client(struct client *c)
{
	while (c->queued > c->sent) {
		ssize_t n =
		    send(c->fd, c->out + c->sent, c->queued - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			client_free(c);
			return -1;
		}
		c->sent += (size_t)n;
		ev_timer_again(EV_DEFAULT, &c->idle);
	}
	if (c->closing && c->linger && shutdown(c->fd, SHUT_WR) == 0) {
		/* Closing with unread bytes would reset the connection, and the
		 * client could lose the answer that says why: its bytes are
		 * read and dropped until it closes, for a short while. */
		c->closing = false;
		c->draining = true;
		c->idle.repeat = LINGER_SECONDS;
		ev_timer_again(EV_DEFAULT, &c->idle);
	} else if (c->closing) {
		client_free(c);
		return -1;
	}
	return 0;
}

/* A refused client's bytes, dropped; gone at its end (its clock is not
 * wound back by what it sends). */
static void drain_client(struct client *c)
{
	char sink[4096];
	ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		client_free(c);
}

/* A whole request (or a bad one) waits in the buffer. */
static bool request_waits(const struct client *c)
{
	struct http_request r;
	return http_parse(c->in, c->inlen, &r) != HTTP_INCOMPLETE;
}

/* Returns -1 when the client is gone. A half-closed client still gets
 * the answers to the requests it sent. */
static int read_client(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0) {
		client_free(c);
		return -1;
	}
	c->eof = n == 0;
	c->inlen += (size_t)n;
	ev_timer_again(EV_DEFAULT, &c->idle);
	return 0;
}

static void client_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct client *c = io->data;
	if (c->draining) {
		drain_client(c);
		return;
	}
	if ((revents & EV_READ) && !c->closing && !c->eof && read_client(c) < 0)
		return;
	/* requests that waited while too much was unsent are served once
	 * the socket took it */
	do {
		serve_requests(c);
		if (flush_client(c) < 0)
			return;
	} while (c->queued == c->sent && request_waits(c));
	if (c->eof && c->queued == c->sent)
		client_free(c);
	else
		watch_client(c);
}

static void idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	client_free(t->data);
}

/* --- accepting ----------------------------------------------------------- */

static void refuse(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: application/json\r\nContent-Length: 46\r\n"
				   "Connection: close\r\n\r\n"
				   "{\"ok\":false,\"error\":\"too many admin clients\"}\n";
	if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		debug("admin: a refused client did not take its answer");
	if (close(fd) < 0)
		syswarn("admin: closing a refused client");
}

static struct client *client_new(int fd)
{
	struct client *c = xcalloc(1, sizeof(*c));
	*c = (struct client){.fd = fd, .next = clients};
	ev_io_init(&c->io, client_cb, fd, EV_READ);
	ev_timer_init(&c->idle, idle_cb, 0, ADMIN_IDLE_SECONDS);
	c->io.data = c->idle.data = c;
	ev_io_start(EV_DEFAULT, &c->io);
	ev_timer_again(EV_DEFAULT, &c->idle);
	nclients++;
	return clients = c;
}

static void set_accepting(bool on)
{
	for (size_t i = 0; i < nlisteners; i++)
		(on ? ev_io_start : ev_io_stop)(EV_DEFAULT, &listeners[i].io);
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	set_accepting(true);
}

/* Out of descriptors, accept() fails at once for ever and a level-
 * triggered watcher would spin: accepting pauses a moment. */
static void pause_accepting(void)
{
	static unsigned pauses;
	if (pauses++ % 10 == 0) /* one warning in ten pauses: one a second at most */
		syswarn("admin: accept (pausing new connections for %gs)", ACCEPT_PAUSE);
	set_accepting(false);
	ev_timer_set(&accept_pause, ACCEPT_PAUSE, 0);
	ev_timer_start(EV_DEFAULT, &accept_pause);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	const struct listener *l = io->data;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_accepting();
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				syswarn("admin: accept on %s", l->listen);
			return;
		}
		if (nclients >= ADMIN_MAX_CLIENTS)
			refuse(fd);
		else
			client_new(fd);
	}
}

/* --- listeners ----------------------------------------------------------- */

/* A reload that changes admin-listen says it waits for a restart. */
static void on_event(const char *name, json_t *event, void *data)
{
	const struct config *c = model->config;
	if (strcmp(name, "reload_succeeded") != 0 || !c)
		return;
	bool same = c->nadmin == nlisteners;
	for (size_t i = 0; same && i < nlisteners; i++)
		same = strcmp(c->admin[i].listen, listeners[i].listen) == 0;
	if (!same)
		warn("admin-listen changed in the config: it takes effect when segue restarts");
}

static int add_listener(int fd, const char *listen, char *err, size_t len)
{
	if (nlisteners == ADMIN_MAX_LISTENERS) {
		snprintf(err, len, "admin-listen: more than %d addresses", ADMIN_MAX_LISTENERS);
		return -1;
	}
	if (fd_set_nonblock(fd, true) < 0 || fd_set_cloexec(fd, true) < 0) {
		snprintf(err, len, "admin-listen %s: %s", listen, strerror(errno));
		return -1;
	}
	struct listener *l = &listeners[nlisteners++];
	l->fd = fd;
	l->listen = xstrdup(listen);
	ev_io_init(&l->io, accept_cb, fd, EV_READ);
	l->io.data = l;
	ev_io_start(EV_DEFAULT, &l->io);
	if (!subscribed) {
		ev_timer_init(&accept_pause, accept_resume_cb, ACCEPT_PAUSE, 0);
		subscribed = event_subscribe(on_event, NULL) == 0;
	}
	return 0;
}

int admin_open(const struct config *c, char *err, size_t len)
{
	for (size_t i = 0; i < c->nadmin; i++) {
		char why[256];
		int fd = listen_open(&c->admin[i], why, sizeof(why));
		if (fd < 0) {
			snprintf(err, len, "admin-listen %s: %s", c->admin[i].listen, why);
			return -1;
		}
		if (add_listener(fd, c->admin[i].listen, err, len) < 0) {
			close(fd);
			return -1;
		}
	}
	return 0;
}

/* A unix socket's file goes with it (segue made it). */
static void close_listener(struct listener *l)
{
	struct address a;
	char why[128];
	if (close(l->fd) < 0)
		syswarn("admin: closing %s", l->listen);
	if (parse_address(l->listen, &a, why, sizeof(why)) == 0 && a.kind == ADDR_UNIX &&
	    unlink(a.path) < 0 && errno != ENOENT)
		syswarn("admin: removing %s", a.path);
	free(l->listen);
}

void admin_close(void)
{
	while (clients)
		client_free(clients);
	for (size_t i = 0; i < nlisteners; i++) {
		ev_io_stop(EV_DEFAULT, &listeners[i].io);
		close_listener(&listeners[i]);
	}
	nlisteners = 0;
	ev_timer_stop(EV_DEFAULT, &accept_pause);
	if (subscribed)
		event_unsubscribe(on_event, NULL);
	subscribed = false;
}

/* --- across an upgrade in place ------------------------------------------ */

/* A client goes on in the next image with what it sent and what it was
 * not sent yet: a probe that connected just before the exec is answered. */
static json_t *client_save(const struct client *c)
{
	state_keep_fd(c->fd);
	return json_pack("{s:i, s:b, s:b, s:b, s:o, s:o}", "fd", c->fd, "closing", c->closing,
			 "linger", c->linger, "eof", c->eof, "in", state_hex(c->in, c->inlen),
			 "out", state_hex(c->out ? c->out + c->sent : "", c->queued - c->sent));
}

json_t *admin_save(void)
{
	json_t *a = json_array(), *cs = json_array();
	for (size_t i = 0; i < nlisteners; i++) {
		state_keep_fd(listeners[i].fd);
		json_array_append_new(a, json_pack("{s:i, s:s}", "fd", listeners[i].fd, "listen",
						   listeners[i].listen));
	}
	for (const struct client *c = clients; c; c = c->next)
		if (!c->draining) /* answered already: the exec closes it */
			json_array_append_new(cs, client_save(c));
	return json_pack("{s:o, s:o}", "listeners", a, "clients", cs);
}

static void client_restore(json_t *j)
{
	int fd = (int)json_integer_value(json_object_get(j, "fd"));
	char *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	if (!state_kept_fd(fd) || nclients >= ADMIN_MAX_CLIENTS ||
	    state_unhex(json_object_get(j, "in"), &in, &inlen) < 0 ||
	    state_unhex(json_object_get(j, "out"), &out, &outlen) < 0 || inlen > HTTP_MAX_REQUEST) {
		free(in);
		free(out);
		if (state_kept_fd(fd) && close(fd) < 0)
			syswarn("admin: closing a client");
		return;
	}
	struct client *c = client_new(fd);
	memcpy(c->in, in, inlen);
	c->inlen = inlen;
	queue(c, out, outlen);
	free(in);
	free(out);
	c->closing = json_is_true(json_object_get(j, "closing"));
	c->eof = json_is_true(json_object_get(j, "eof"));
	c->linger = json_is_true(json_object_get(j, "linger"));
	/* what it sent before the exec is served from the loop */
	ev_feed_event(EV_DEFAULT, &c->io, EV_WRITE);
}

int admin_restore(json_t *part, char *err, size_t len)
{
	if (!part)
		return admin_open(model->config, err, len);
	size_t i;
	json_t *l;
	json_array_foreach (json_object_get(part, "listeners"), i, l) {
		int fd = (int)json_integer_value(json_object_get(l, "fd"));
		const char *listen = json_string_value(json_object_get(l, "listen"));
		if (!state_kept_fd(fd) || !listen) {
			snprintf(err, len, "state: admin listener %zu has no socket", i);
			return -1;
		}
		if (add_listener(fd, listen, err, len) < 0)
			return -1;
	}
	json_array_foreach (json_object_get(part, "clients"), i, l)
		client_restore(l);
	return 0;
}
