/* steer.c: handover "steer": a listening socket per generation in one
 * SO_REUSEPORT group, and a classic BPF program that picks which of them
 * new connections reach. */
/* SPDX-License-Identifier: MIT */
#include "steer.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* After the old accept queue is empty: time for a connection an old
 * worker has just accepted to be read, and for a handshake the kernel had
 * already given the old socket to complete (and be accepted). */
#define STEER_GRACE 0.1
/* How often the old accept queues are read during a cut-over (only then). */
#define STEER_TICK 0.01
/* The largest group the kernel keeps (its index is 16 bits). */
#define STEER_MAX_GROUP 65535

/* --- the pure part ------------------------------------------------------- */

size_t steer_program(unsigned index, struct sock_filter *prog)
{
	prog[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, index);
	return 1;
}

size_t steer_weighted_program(unsigned new_index, unsigned old_index, unsigned percent,
			      struct sock_filter *prog)
{
	if (percent >= 100)
		return steer_program(new_index, prog);
	/* below 2^32: percent < 100 */
	uint32_t below = (uint32_t)(((uint64_t)percent << 32) / 100);
	prog[0] =
	    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM);
	prog[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, below, 1, 0);
	prog[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, new_index);
	prog[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, old_index);
	return 4;
}

size_t steer_group_size(const int *index, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (index[i] >= 0)
			k++;
	return k;
}

int steer_group_leave(int *index, size_t n, size_t leaving)
{
	if (leaving >= n || index[leaving] < 0)
		return -1;
	int hole = index[leaving], last = (int)steer_group_size(index, n) - 1;
	index[leaving] = -1;
	for (size_t i = 0; i < n && hole != last; i++) {
		if (index[i] == last) {
			index[i] = hole;
			return (int)i;
		}
	}
	return -1;
}

/* --- sockets ------------------------------------------------------------- */

static void (*settle)(void);
/* The canary generation whose sockets are weighted (0: none). */
static unsigned weighed;

void steer_init(void (*settle_fn)(void))
{
	settle = settle_fn;
}

bool steer_wanted(const struct socket_conf *s)
{
	return s->handover == HANDOVER_STEER && s->addr.kind != ADDR_UNIX;
}

/* Steer cannot work on socket `name`: it is shared, as with handover
 * shared, and the event says why. */
static void fallback(const char *name, const char *why)
{
	event_emit(LEVEL_WARN, "steer_fallback",
		   json_pack("{s:s, s:s}", "socket", name, "reason", why),
		   "socket %s: handover steer cannot work (%s): the generations share the socket",
		   name, why);
}

static bool has_reuseport(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);
	return getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 && on;
}

static int attach(int fd, struct sock_filter *code, size_t len)
{
	struct sock_fprog prog = {.filter = code, .len = (unsigned short)len};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

/* Aims the group fd belongs to at the member at `index`. */
static int aim(int fd, int index)
{
	struct sock_filter code[STEER_PROGRAM_MAX];
	return attach(fd, code, steer_program((unsigned)index, code));
}

/* Aims the group of nh and oh: percent of new connections at nh. */
static int aim_weighted(const struct held_socket *nh, const struct held_socket *oh, int percent)
{
	struct sock_filter code[STEER_PROGRAM_MAX];
	return attach(nh->fd, code,
		      steer_weighted_program((unsigned)nh->group_index, (unsigned)oh->group_index,
					     (unsigned)percent, code));
}

void steer_adopt(struct held_socket *h, const struct socket_conf *s)
{
	if (s->handover != HANDOVER_STEER)
		return;
	if (s->addr.kind == ADDR_UNIX) {
		fallback(s->name, "unix sockets have no SO_REUSEPORT");
		return;
	}
	if (!has_reuseport(h->fd)) {
		fallback(s->name, s->addr.kind == ADDR_SYSTEMD
				      ? "the socket systemd passed has no SO_REUSEPORT "
					"(ReusePort=yes in its .socket unit)"
				      : "the socket was bound without SO_REUSEPORT");
		return;
	}
	model_socket_set_group_index(h, 0);
	/* systemd keeps its own copy for the next segue: that socket stays
	 * in the group whatever segue closes, so segue keeps it too. */
	if (s->addr.kind == ADDR_SYSTEMD)
		model_socket_ref(h);
}

/* The held sockets at a's address that are in its group (at most max). */
static size_t members(const struct address *a, struct held_socket **out, size_t max)
{
	size_t n = 0;
	for (struct held_socket *h = model->sockets; h && n < max; h = h->next)
		if (h->group_index >= 0 && address_equal(&h->conf.addr, a))
			out[n++] = h;
	return n;
}

struct held_socket *steer_serving(const struct address *a)
{
	const struct generation *g = model->serving;
	for (size_t i = 0; g && i < g->config->nsockets; i++)
		if (address_equal(&g->sockets[i]->conf.addr, a))
			return g->sockets[i];
	return NULL;
}

static int copy_int_opt(int from, int to, int level, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(from, level, opt, &v, &len) < 0)
		return -1;
	return setsockopt(to, level, opt, &v, sizeof(v));
}

static int set_on(int fd, int opt)
{
	int on = 1;
	return setsockopt(fd, SOL_SOCKET, opt, &on, sizeof(on));
}

/* A new member of like's group: the same address and options, listening. */
static int open_member(int like, int backlog, char *err, size_t len)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	if (getsockname(like, (struct sockaddr *)&sa, &salen) < 0) {
		snprintf(err, len, "getsockname: %s", strerror(errno));
		return -1;
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *what = "socket";
	if (fd < 0)
		goto fail;
	what = "setsockopt";
	if (set_on(fd, SO_REUSEADDR) < 0 || set_on(fd, SO_REUSEPORT) < 0 ||
	    (sa.ss_family == AF_INET6 && copy_int_opt(like, fd, IPPROTO_IPV6, IPV6_V6ONLY) < 0) ||
	    copy_int_opt(like, fd, IPPROTO_TCP, TCP_NODELAY) < 0)
		goto fail;
	what = "joining the address's SO_REUSEPORT group";
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:;
	int saved = errno;
	snprintf(err, len, "%s: %s%s", what, strerror(saved),
		 saved == EADDRINUSE ? " (another process holds the address, or a socket on it "
				       "was bound without SO_REUSEPORT)"
				     : "");
	if (fd >= 0 && close(fd) < 0)
		syswarn("closing a socket that could not join");
	return -1;
}

static size_t count_members(const struct address *a)
{
	size_t n = 0;
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		if (h->group_index >= 0 && address_equal(&h->conf.addr, a))
			n++;
	return n;
}

/* Why a socket that is not in a group cannot join one. */
static const char *cannot_join(const struct held_socket *h)
{
	if (h->conf.addr.kind == ADDR_UNIX)
		return "unix sockets have no SO_REUSEPORT";
	if (h->conf.addr.kind == ADDR_SYSTEMD)
		return "the socket systemd passed has no SO_REUSEPORT (ReusePort=yes in its "
		       ".socket unit)";
	return NULL; /* a TCP socket: joining tells */
}

struct held_socket *steer_join(const struct socket_conf *s, struct held_socket **shared)
{
	struct held_socket *serving = steer_serving(&s->addr);
	if (serving)
		*shared = serving;
	if (s->handover != HANDOVER_STEER || !serving)
		return NULL;
	char why[300];
	size_t n = count_members(&s->addr);
	if (serving->group_index < 0 && cannot_join(serving)) {
		fallback(s->name, cannot_join(serving));
		return NULL;
	}
	if (n >= STEER_MAX_GROUP) {
		fallback(s->name, "its SO_REUSEPORT group is full");
		return NULL;
	}
	/* Until the commit, the group's new member gets no connection. */
	if (serving->group_index >= 0 && aim(serving->fd, serving->group_index) < 0) {
		snprintf(why, sizeof(why), "attaching the program: %s", strerror(errno));
		fallback(s->name, why);
		return NULL;
	}
	int fd = open_member(serving->fd, s->backlog, why, sizeof(why));
	if (fd < 0) {
		fallback(s->name, why);
		return NULL;
	}
	if (serving->group_index < 0) { /* bound with `reuseport`: the group's first */
		model_socket_set_group_index(serving, 0);
		n = 1;
		if (aim(serving->fd, 0) < 0)
			syswarn("socket %s: attaching the program", s->name);
	}
	struct socket_conf c = *s;
	c.reuseport = true;
	struct held_socket *h = model_socket_add(&c, fd, false);
	model_socket_set_group_index(h, (int)n);
	return h;
}

/* --- the cut-over -------------------------------------------------------- */

/* A generation steered away from: its sockets' accept queues are read
 * until they are empty, then done(gen) tells it to drain. */
struct quiesce {
	ev_timer timer;
	struct held_socket **old; /* its sockets steered away from */
	size_t n;
	unsigned gen;
	double started, deadline, empty_since;
	void (*done)(unsigned number);
};

/* cut: the old generation at a commit; back: a failed weighted canary */
static struct quiesce cut, back;

static void quiesce_clear(struct quiesce *q)
{
	ev_timer_stop(EV_DEFAULT, &q->timer);
	free(q->old);
	q->old = NULL;
	q->n = 0;
	q->done = NULL;
}

void steer_cancel(void)
{
	quiesce_clear(&cut);
}

int steer_accept_queue(int fd, unsigned *queued)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	*queued = ti.tcpi_unacked; /* on a listener: its accept queue */
	return 0;
}

static unsigned old_queues(const struct quiesce *q)
{
	unsigned total = 0, n;
	for (size_t i = 0; i < q->n; i++)
		if (steer_accept_queue(q->old[i]->fd, &n) == 0)
			total += n;
	return total;
}

static void tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct quiesce *q = t->data;
	double now = now_mono();
	unsigned queued = old_queues(q);
	if (queued)
		q->empty_since = 0;
	else if (!q->empty_since)
		q->empty_since = now;
	bool quiet = q->empty_since && now - q->empty_since >= STEER_GRACE;
	if (!quiet && now < q->deadline)
		return;
	unsigned gen = q->gen;
	void (*done)(unsigned) = q->done;
	event_emit(quiet ? LEVEL_INFO : LEVEL_WARN, "steer_finished",
		   json_pack("{s:I, s:I, s:i, s:b}", "generation", (json_int_t)gen, "waited_ms",
			     (json_int_t)((now - q->started) * 1000 + 0.5), "accept_queue",
			     (int)queued, "timed_out", !quiet),
		   quiet ? "generation %u's accept queues are empty: draining it"
			 : "generation %u still has connections waiting at steer-quiesce: "
			   "draining it",
		   gen);
	quiesce_clear(q);
	done(gen);
	if (settle)
		settle();
}

/* q watches its sockets every STEER_TICK, `quiesce` seconds at most. */
static void quiesce_start(struct quiesce *q, unsigned gen, double quiesce, void (*done)(unsigned))
{
	q->gen = gen;
	q->done = done;
	q->started = now_mono();
	q->deadline = q->started + quiesce;
	q->empty_since = 0;
	ev_timer_init(&q->timer, tick, STEER_TICK, STEER_TICK);
	q->timer.data = q;
	ev_timer_start(EV_DEFAULT, &q->timer);
}

/* The new generation's socket nh takes the connections; old's socket at
 * the same address, if steered, is watched until its queue is empty, at
 * most `wait` (nh's steer-quiesce, from the config: a socket an upgrade
 * in place restored, a held canary's, has none of its own). */
static void cut_socket(const struct generation *old, struct held_socket *nh, double wait,
		       double *quiesce)
{
	for (size_t j = 0; j < old->config->nsockets; j++) {
		struct held_socket *oh = old->sockets[j];
		if (oh == nh || oh->group_index < 0 ||
		    !address_equal(&oh->conf.addr, &nh->conf.addr))
			continue;
		if (aim(nh->fd, nh->group_index) < 0)
			syswarn("socket %s: attaching the program", nh->conf.name);
		cut.old[cut.n++] = oh;
		if (wait > *quiesce)
			*quiesce = wait;
		event_emit(
		    LEVEL_INFO, "steer_started",
		    json_pack("{s:s, s:I, s:i, s:I, s:i}", "socket", nh->conf.name, "generation",
			      (json_int_t)model->serving->number, "fd", nh->fd, "from_generation",
			      (json_int_t)old->number, "index", nh->group_index),
		    "new connections on %s go to the new generation's socket", nh->conf.name);
		return;
	}
}

bool steer_cutover(const struct generation *old, void (*done)(unsigned old_number))
{
	const struct generation *g = model->serving;
	weighed = 0; /* the cut-over's program replaces a canary's */
	if (!old || !g || old == g)
		return false;
	quiesce_clear(&cut);
	cut.old = xcalloc(old->config->nsockets + 1, sizeof(*cut.old));
	double quiesce = 0;
	for (size_t i = 0; i < g->config->nsockets; i++)
		if (g->sockets[i]->group_index >= 0)
			cut_socket(old, g->sockets[i], g->config->sockets[i].steer_quiesce,
				   &quiesce);
	if (cut.n == 0) {
		quiesce_clear(&cut);
		return false;
	}
	quiesce_start(&cut, old->number, quiesce, done);
	return true;
}

void steer_back(void)
{
	const struct generation *g = model->serving;
	weighed = 0;
	for (size_t i = 0; g && i < g->config->nsockets; i++) {
		const struct held_socket *h = g->sockets[i];
		if (h->group_index >= 0 && aim(h->fd, h->group_index) < 0)
			syswarn("socket %s: steering back to generation %u", h->conf.name,
				g->number);
	}
}

/* --- a weighted canary --------------------------------------------------- */

/* The largest canary-weight of g's programs that listen on its socket i. */
static int weight_for(const struct generation *g, size_t i)
{
	int w = 0;
	for (size_t j = 0; j < g->config->nprograms; j++) {
		const struct program_conf *p = &g->config->programs[j];
		for (size_t k = 0; k < p->nsockets; k++)
			if (p->socket_index[k] == (int)i && p->canary_weight > w)
				w = p->canary_weight;
	}
	return w;
}

/* g's socket i and the serving one at its address, both steered, and
 * the share g's gets; 0 when it gets none. */
static int weighed_pair(const struct generation *g, size_t i, struct held_socket **nh,
			struct held_socket **oh)
{
	*nh = g->sockets[i];
	*oh = steer_serving(&(*nh)->conf.addr);
	if (!*oh || *oh == *nh || (*nh)->group_index < 0 || (*oh)->group_index < 0)
		return 0;
	return weight_for(g, i);
}

/* The generation weighted now, if it still waits to serve. */
static const struct generation *weighed_generation(void)
{
	const struct generation *g = model->pending;
	return weighed && g && g->number == weighed ? g : NULL;
}

bool steer_weigh(const struct generation *g, bool announce)
{
	struct held_socket *nh, *oh;
	weighed = 0;
	for (size_t i = 0; model->serving && i < g->config->nsockets; i++) {
		int w = weighed_pair(g, i, &nh, &oh);
		if (!w)
			continue;
		if (aim_weighted(nh, oh, w) < 0) {
			syswarn("socket %s: attaching the weighted program", nh->conf.name);
			continue;
		}
		weighed = g->number;
		if (!announce)
			continue;
		event_emit(LEVEL_INFO, "steer_weighted",
			   json_pack("{s:s, s:I, s:i, s:I, s:i, s:i}", "socket", nh->conf.name,
				     "generation", (json_int_t)g->number, "weight", w,
				     "from_generation", (json_int_t)model->serving->number, "index",
				     nh->group_index, "from_index", oh->group_index),
			   "%d%% of new connections on %s go to the canary's socket", w,
			   nh->conf.name);
	}
	return weighed != 0;
}

int steer_weight_of(const struct held_socket *h)
{
	const struct generation *g = weighed_generation();
	struct held_socket *nh, *oh;
	for (size_t i = 0; g && i < g->config->nsockets; i++) {
		int w = weighed_pair(g, i, &nh, &oh);
		if (w && h == nh)
			return w;
		if (w && h == oh)
			return 100 - w;
	}
	return -1;
}

/* After a member of the group at a's address left: the program is aimed
 * again at the serving socket, or weighted while a canary is. */
static void reaim(const struct address *a, const struct held_socket *gone)
{
	const struct generation *g = weighed_generation();
	struct held_socket *nh, *oh;
	for (size_t i = 0; g && i < g->config->nsockets; i++) {
		int w = weighed_pair(g, i, &nh, &oh);
		if (w && nh != gone && oh != gone && address_equal(&nh->conf.addr, a)) {
			if (aim_weighted(nh, oh, w) < 0)
				syswarn("socket %s: weighting the program again", nh->conf.name);
			return;
		}
	}
	const struct held_socket *t = steer_serving(a);
	if (t && t != gone && t->group_index >= 0 && aim(t->fd, t->group_index) < 0)
		syswarn("socket %s: aiming the program again", t->conf.name);
}

void steer_flush(void)
{
	void (*done)(unsigned) = back.done;
	unsigned gen = back.gen;
	quiesce_clear(&back);
	if (done)
		done(gen);
}

bool steer_back_from(const struct generation *g, void (*done)(unsigned number))
{
	struct held_socket *nh, *oh;
	double quiesce = 0;
	steer_flush(); /* an earlier canary's wait ends now: one at a time */
	back.old = xcalloc(g->config->nsockets + 1, sizeof(*back.old));
	for (size_t i = 0; weighed == g->number && i < g->config->nsockets; i++) {
		if (!weighed_pair(g, i, &nh, &oh))
			continue;
		back.old[back.n++] = nh;
		/* g's config, not nh's: a socket an upgrade restored has no
		 * steer-quiesce, the config travels as its text */
		if (g->config->sockets[i].steer_quiesce > quiesce)
			quiesce = g->config->sockets[i].steer_quiesce;
	}
	steer_back();
	if (back.n == 0) {
		quiesce_clear(&back);
		return false;
	}
	quiesce_start(&back, g->number, quiesce, done);
	return true;
}

/* h leaves q's watch. */
static void unwatch(struct quiesce *q, const struct held_socket *h)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->old[i] == h)
			q->old[i--] = q->old[--q->n];
}

void steer_leave(struct held_socket *h, bool keep)
{
	if (h->group_index < 0)
		return;
	unwatch(&cut, h);
	unwatch(&back, h);
	if (keep)
		return;
	/* A listener leaves its group at shutdown, whoever else holds it
	 * (an escaped child of a worker): the group's order stays known. */
	if (shutdown(h->fd, SHUT_RD) < 0)
		syswarn("socket %s: leaving its SO_REUSEPORT group", h->conf.name);
	size_t n = count_members(&h->conf.addr), k = 0;
	struct held_socket **all = xcalloc(n + 1, sizeof(*all));
	int *index = xcalloc(n + 1, sizeof(*index));
	members(&h->conf.addr, all, n);
	for (size_t i = 0; i < n; i++) {
		index[i] = all[i]->group_index;
		if (all[i] == h)
			k = i;
	}
	steer_group_leave(index, n, k);
	for (size_t i = 0; i < n; i++)
		model_socket_set_group_index(all[i], index[i]);
	free(all);
	free(index);
	reaim(&h->conf.addr, h);
}

unsigned steer_generation_of(const struct held_socket *h)
{
	for (const struct generation *g = model->generations; g; g = g->next)
		for (size_t i = 0; i < g->config->nsockets; i++)
			if (g->sockets[i] == h)
				return g->number;
	return 0;
}
