/* hold.c: the listening sockets segue holds: bind or reuse, systemd's fd
 * store, changes at a reload's commit, close when unused. */
/* SPDX-License-Identifier: MIT */
#include "hold.h"
#include "listen.h"
#include "log.h"
#include "sd.h"
#include "steer.h"
#include "utf8.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool keep_stored;

void hold_unstore(const char *name)
{
	char *state = xasprintf("FDSTOREREMOVE=1\nFDNAME=%s", name);
	if (sd_send_notify(state) < 0)
		syswarn("socket %s: removing it from systemd's fd store", name);
	free(state);
}

static void store(const char *name, int fd)
{
	char *state = xasprintf("FDSTORE=1\nFDNAME=%s", name);
	if (sd_send_notify_fd(state, fd) < 0)
		syswarn("socket %s: handing it to systemd's fd store", name);
	free(state);
}

/* With the fd store, a socket that systemd kept for an earlier segue is
 * taken back by name, as long as it is still bound where the config says. */
static int take_stored(const struct socket_conf *s)
{
	if (s->addr.kind == ADDR_SYSTEMD)
		return -1;
	int fd = listen_claim_inherited(s->name);
	if (fd >= 0 && !listen_matches(fd, &s->addr)) {
		warn("socket %s: the stored socket is not bound to %s any more: binding anew",
		     s->name, s->listen);
		if (close(fd) < 0)
			syswarn("socket %s: closing the stale stored socket", s->name);
		hold_unstore(s->name);
		fd = -1;
	}
	return fd;
}

static void announce(const struct socket_conf *s, int fd, bool inherited)
{
	char bound[300];
	listen_describe(fd, bound, sizeof(bound));
	json_t *f = json_pack("{s:s, s:o, s:o, s:i, s:b}", "socket", s->name, "listen",
			      json_string_utf8(s->listen), "address", json_string_utf8(bound), "fd",
			      fd, "inherited", inherited || s->addr.kind == ADDR_SYSTEMD);
	event_emit(LEVEL_INFO, "socket_bound", f, "%s %s",
		   inherited			  ? "reusing the socket systemd stored for"
		   : s->addr.kind == ADDR_SYSTEMD ? "holding the socket systemd passed for"
						  : "holding",
		   bound);
}

struct held_socket *hold_socket(const struct socket_conf *s, bool fdstore, double retry, char *err,
				size_t len)
{
	struct held_socket *h = model_socket_find(&s->addr);
	if (h) {
		struct held_socket *joined = steer_join(s, &h);
		if (joined) {
			announce(s, joined->fd, false);
			return joined;
		}
		model_socket_ref(h);
		return h;
	}
	int fd = fdstore ? take_stored(s) : -1;
	bool inherited = fd >= 0;
	struct socket_conf c = *s;
	c.reuseport = s->reuseport || steer_wanted(s); /* before bind, to start a group */
	if (fd < 0 && (fd = listen_open_retry(&c, retry, err, len)) < 0)
		return NULL;
	bool stored = fdstore && s->addr.kind != ADDR_SYSTEMD;
	h = model_socket_add(s, fd, stored);
	if (stored && !inherited)
		store(s->name, fd);
	announce(s, fd, inherited);
	steer_adopt(h, s);
	return h;
}

void hold_release(struct held_socket *h)
{
	if (!model_socket_unref(h))
		return;
	json_t *f = json_pack("{s:s, s:o}", "socket", h->conf.name, "listen",
			      json_string_utf8(h->conf.listen));
	event_emit(LEVEL_INFO, "socket_closed", f, "no generation uses %s any more",
		   h->conf.listen);
	steer_leave(h, h->stored && keep_stored);
	if (h->stored && keep_stored)
		/* systemd gives it back to the next segue: its path stays */
		listen_close_keep_path(&h->conf, h->fd);
	else if (h->stored)
		hold_unstore(h->conf.name);
	if (!h->stored || !keep_stored)
		listen_close(&h->conf, h->fd);
	model_socket_free(h);
}

bool hold_differs(const struct held_socket *h, const struct socket_conf *s)
{
	return h->conf.backlog != s->backlog || strcmp(h->conf.name, s->name) != 0;
}

void hold_apply(struct held_socket *h, const struct socket_conf *s)
{
	if (h->conf.backlog != s->backlog) {
		if (h->conf.addr.kind != ADDR_SYSTEMD && listen_set_backlog(h->fd, s->backlog) < 0)
			syswarn("socket %s: new backlog %d", s->name, s->backlog);
		model_socket_set_backlog(h, s->backlog);
	}
	if (strcmp(h->conf.name, s->name) == 0)
		return;
	/* systemd keeps every fd under a name: the old one must go before
	 * the socket is stored under the new one. */
	if (h->stored) {
		hold_unstore(h->conf.name);
		store(s->name, h->fd);
	}
	model_socket_rename(h, s->name);
}

/* With the fd store, the stored socket is the serving generation's: a
 * steered address's new socket replaces the old one there. */
static void restore_steered(const struct generation *old)
{
	const struct generation *g = model->serving;
	for (size_t i = 0; g && i < g->config->nsockets; i++) {
		struct held_socket *nh = g->sockets[i];
		for (size_t j = 0; nh->group_index >= 0 && j < old->config->nsockets; j++) {
			struct held_socket *oh = old->sockets[j];
			if (oh == nh || !oh->stored ||
			    !address_equal(&oh->conf.addr, &nh->conf.addr))
				continue;
			hold_unstore(oh->conf.name);
			model_socket_set_stored(oh, false);
			store(nh->conf.name, nh->fd);
			model_socket_set_stored(nh, true);
		}
	}
}

bool hold_cutover(const struct generation *old, void (*done)(unsigned old_number))
{
	if (!old)
		return false;
	restore_steered(old);
	return steer_cutover(old, done);
}

void hold_keep_stored(void)
{
	keep_stored = true;
}
