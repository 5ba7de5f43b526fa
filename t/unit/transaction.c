/* t/unit/transaction.c: the reload as a transaction, driven without
 * processes: the worker module is replaced by stubs that only change the
 * model, and the test plays the workers (ready, failed, exited). Plan,
 * commit, abort and the rolling restore are checked on the model and on
 * the real held sockets. */
/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/core.h"
#include "../../src/hold.h"
#include "../../src/log.h"
#include "../../src/model.h"
#include "../../src/reload.h"
#include "../../src/util.h"
#include "../../src/worker.h"
#include "../tap.h"

/* --- the worker module, as stubs ----------------------------------------- */

static char spawns[4096]; /* "g1s0 g1s1 ..." in order */
static pid_t next_pid = 100000;

bool worker_spawn(struct program_run *p, int slot)
{
	struct worker *w = model_worker_new(p, slot, now_mono(), now_wall());
	model_worker_set_pid(w, next_pid++);
	size_t len = strlen(spawns);
	snprintf(spawns + len, sizeof(spawns) - len, "g%us%d ", p->gen->number, slot);
	return true;
}

void worker_event(struct worker *w, enum worker_event e)
{
	struct worker_transition t = worker_step(w->state, e);
	if (t.action == WACT_DRAIN)
		model_slot_vacate(w->prog->slots[w->slot], NULL, 0, now_mono());
	model_worker_set_state(w, t.next, 0, now_wall());
}

void worker_drain_generation(const struct generation *g)
{
	for (struct worker *w = model->workers; w; w = w->next)
		if (w->prog->gen == g && (w->state == WORKER_STARTING || w->state == WORKER_READY))
			worker_event(w, WEV_DRAIN);
}

bool worker_can_spawn(void)
{
	return true;
}
void worker_grant_spawns(unsigned n)
{
	(void)n;
}
void worker_init(worker_changed_fn *fn)
{
	(void)fn;
}
bool worker_reaped(pid_t pid, int status)
{
	(void)pid, (void)status;
	return false;
}
void worker_check_lingering(void)
{
}
void worker_forget(struct worker *w)
{
	model_worker_free(w);
}

/* --- playing the workers ------------------------------------------------- */

static struct worker *in_slot(unsigned gen, int slot)
{
	for (struct generation *g = model->generations; g; g = g->next)
		if (g->number == gen && slot < g->programs[0].nslots)
			return g->programs[0].slots[slot]->worker;
	return NULL;
}

static void become_ready(unsigned gen, int slot)
{
	model_worker_set_state(in_slot(gen, slot), WORKER_READY, 0, now_wall());
	core_settle();
}

static void fail(unsigned gen, int slot, const char *why)
{
	struct worker *w = in_slot(gen, slot);
	model_slot_vacate(w->prog->slots[slot], why, 0, now_mono());
	model_worker_free(w);
	core_settle();
}

/* Every draining worker exits. */
static void drained_exit(void)
{
	for (struct worker *w = model->workers, *next; w; w = next) {
		next = w->next;
		if (w->state == WORKER_DRAINING)
			model_worker_free(w);
	}
	core_settle();
}

/* --- the sockets --------------------------------------------------------- */

static int backlog_of(const struct held_socket *h)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(h->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return (int)ti.tcpi_sacked;
}

static const struct held_socket *tcp_socket(void)
{
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		if (h->conf.addr.kind != ADDR_UNIX)
			return h;
	return NULL;
}

static int nsockets(void)
{
	int n = 0;
	for (const struct held_socket *h = model->sockets; h; h = h->next)
		n++;
	return n;
}

static char dir[] = "/tmp/segue-unit-XXXXXX";

static char *write_conf(const char *name, const char *sockets, const char *program_sockets)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		exit(2);
	fprintf(f,
		"control = \"%s/c.sock\"\n%s\n"
		"program app { command = \"true\"\n sockets = { %s }\n workers = 3\n"
		" reload = \"rolling\"\n max-surge = 1\n ready = \"notify\" }\n",
		dir, sockets, program_sockets);
	fclose(f);
	return path;
}

/* The first generation: what core_start does, less signals and children. */
static void start(const char *file)
{
	struct config *c = config_load(file, &(struct config_defaults){0}, stderr);
	model_set_config(c);
	struct held_socket **held = xcalloc(c->nsockets + 1, sizeof(*held));
	char err[256];
	held[0] = hold_socket(&c->sockets[0], false, 0, err, sizeof(err));
	struct generation *g = model_generation_new(c, held);
	model_generation_set_state(g, GEN_SERVING);
	model_set_serving(g);
	model_program_set_desired(&g->programs[0], 3);
	config_unref(c);
	core_settle();
}

static void plan_changes_nothing_shared(void)
{
	is_string("g1s0 g1s1 g1s2 ", spawns, "the first generation starts three workers");
	for (int i = 0; i < 3; i++)
		become_ready(1, i);
	ok(model->serving->number == 1 && model_generation_ready(model->serving),
	   "generation 1 is ready");
	spawns[0] = '\0';
	core_reload("test");
	ok(model->pending && model->pending->number == 2, "the reload starts generation 2");
	is_string("g2s0 ", spawns, "rolling, max-surge 1: one new worker first");
	is_string("web", tcp_socket()->conf.name, "planned: the shared socket keeps its name");
	is_int(64, backlog_of(tcp_socket()), "planned: it keeps its backlog");
	is_int(2, nsockets(), "the new unix socket is bound already");
}

static void rolling_then_abort(void)
{
	become_ready(2, 0);
	ok(in_slot(1, 0) == NULL, "old slot 0 is drained once its replacement is ready");
	is_string("g2s0 g2s1 ", spawns, "then slot 1 starts");
	become_ready(2, 1);
	is_string("g2s0 g2s1 g2s2 ", spawns, "then slot 2");
	struct worker *old2 = in_slot(1, 2);
	spawns[0] = '\0';
	fail(2, 2, "worker 2 (pid 1) exited with status 1");
	const struct reload_result *r = reload_last_result();
	ok(r && r->outcome == RELOAD_FAILED && strstr(r->reason, "worker 2"),
	   "the reload fails with its reason: %s", r ? r->reason : "(none)");
	ok(!model->pending && model->serving->number == 1, "generation 1 serves on");
	is_string("g1s0 g1s1 ", spawns, "exactly the two drained old slots get a worker again");
	ok(in_slot(1, 2) == old2, "old slot 2 keeps its worker");
	is_string("web", tcp_socket()->conf.name, "aborted: the shared socket's name is as it was");
	is_int(64, backlog_of(tcp_socket()), "aborted: its backlog is as it was");
	drained_exit();
	is_int(1, nsockets(), "once generation 2 is gone, the socket only it used is closed");
	char *path = xasprintf("%s/extra.sock", dir);
	ok(access(path, F_OK) != 0, "and its file removed");
	free(path);
}

static void commit_applies(void)
{
	for (int i = 0; i < 2; i++)
		become_ready(1, i);
	spawns[0] = '\0';
	core_reload("test");
	for (int i = 0; i < 3; i++)
		become_ready(3, i);
	const struct reload_result *r = reload_last_result();
	ok(r && r->outcome == RELOAD_SUCCEEDED && r->generation == 3,
	   "a good reload commits generation 3");
	is_string("g3s0 g3s1 g3s2 ", spawns, "one slot after the other");
	is_string("www", tcp_socket()->conf.name, "committed: the socket has its new name");
	is_int(200, backlog_of(tcp_socket()), "committed: and its new backlog");
	ok(model->serving->state == GEN_SERVING && model->generations->next &&
	       model->generations->next->state == GEN_RETIRED,
	   "generation 1 is retired");
	drained_exit();
	ok(model->generations->next == NULL, "and freed once drained");
}

int main(void)
{
	plan_lazy();
	if (!mkdtemp(dir))
		return 2;
	log_open(LOG_FORMAT_LOGFMT, "/dev/null");
	model_init(now_wall(), now_mono());
	char *tcp = xasprintf("socket web { listen = \"127.0.0.1:0\"\n backlog = 64 }");
	char *first = write_conf("one.conf", tcp, "\"web\"");
	char *both = xasprintf("socket www { listen = \"127.0.0.1:0\"\n backlog = 200 }\n"
			       "socket extra { listen = \"unix:%s/extra.sock\" }",
			       dir);
	char *second = write_conf("two.conf", both, "\"www\", \"extra\"");
	start(first);
	reload_init(second, &(struct config_defaults){0}, core_settle);
	plan_changes_nothing_shared();
	rolling_then_abort();
	commit_applies();
	core_teardown();
	unlink(first);
	unlink(second);
	rmdir(dir);
	free(tcp), free(both), free(first), free(second);
	return tap_done();
}
