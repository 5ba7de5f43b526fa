/* model.h: segue's one state model: held sockets, generations, their
 * programs' slots and workers. model.c alone creates, links and frees
 * them; other modules read them through these types and queries and
 * change them only through the functions below. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_MODEL_H
#define SEGUE_MODEL_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "lifecycle.h"

/* A listening socket segue holds. Held by address: a socket whose listen is
 * unchanged across a reload keeps its fd. */
struct held_socket {
	struct held_socket *next;
	struct socket_conf conf; /* copy; strings owned */
	int fd;
	unsigned refs; /* generations using it */
	bool stored;   /* also in systemd's fd store, under conf.name */
	/* handover steer: its place in the address's SO_REUSEPORT group
	 * (steer.h); -1: not steered */
	int group_index;
};

struct program_run;

struct worker {
	struct worker *next; /* every worker, newest first */
	struct program_run *prog;
	int slot;
	pid_t pid; /* also its process group */
	enum worker_state state;
	double deadline;   /* monotonic; named by the state (see lifecycle.h) */
	double started;	   /* monotonic */
	double since;	   /* wall clock of the last state change */
	unsigned restarts; /* of its slot before it */
	char status[256];  /* STATUS= text, or why it failed */
	void *io;	   /* the worker module's own: its descriptors and watchers */
};

/* A slot of a program in a generation: one worker position. */
struct slot {
	struct program_run *prog;
	int index;
	struct worker *worker; /* a starting or ready one, or NULL */
	unsigned spawns;       /* workers started in it */
	unsigned failures;     /* consecutive ends nobody asked for */
	unsigned restarts;
	double delay;	    /* the restart delay in force */
	double restart_due; /* monotonic; 0: may start at once */
	bool waits_exit;    /* its failed worker still runs: restart_due counts
			       from that worker's end */
	char failure[256];  /* why its last worker failed, "" if it did not */
	ev_timer restart;   /* armed by core.c for restart_due */
};

/* What a program's health check found (check.c runs it). */
struct check_state {
	unsigned runs;	   /* results since the check was started */
	unsigned failures; /* in a row */
	bool ok;	   /* the last result */
	char text[256];	   /* why the last run failed, "" if it did not */
	bool carried;	   /* restored by an upgrade in place: the next start
			      keeps these results */
	void *io;	   /* the check module's own: its process and timers */
};

struct program_run {
	struct generation *gen;
	const struct program_conf *conf;
	size_t index;	 /* in the generation's programs */
	char *directory; /* resolved at the last spawn; recorded for rollback */
	bool pinned;	 /* directory fixed (a rollback's or after a failed deploy) */
	char *release;	 /* its name: `release` with {directory} expanded, or the
			    directory's basename; "" when neither is known */
	struct check_state check;
	int desired;
	int nslots; /* allocated; each slot apart, libev holds their timers */
	struct slot **slots;
};

enum generation_state {
	GEN_STARTING, /* a reload's new generation, not yet ready */
	GEN_SERVING,
	GEN_RETIRED, /* drained after a newer one took over */
	GEN_FAILED,  /* rolled back */
};

struct generation {
	struct generation *next; /* newest first */
	unsigned number;
	enum generation_state state;
	struct config *config;
	struct held_socket **sockets; /* by config socket index */
	size_t nprograms;
	struct program_run *programs;
	double started; /* monotonic */
	unsigned live;	/* its workers not yet gone */
};

struct counters {
	unsigned reloads_ok, reloads_failed;
	double last_reload_seconds;
	unsigned worker_restarts, crash_loops;
};

struct model {
	struct held_socket *sockets;
	struct generation *generations;
	struct generation *serving;
	struct generation *pending; /* a reload's, until it commits or aborts */
	struct worker *workers;
	unsigned nworkers;
	unsigned last_generation;
	struct config *config; /* the newest accepted */
	bool stopping;
	struct counters counters;
	double started_wall, started_mono;
	unsigned version; /* changes with every change of the above */
};

/* The model, to read. */
extern const struct model *const model;

/* --- sockets --- */
struct held_socket *model_socket_find(const struct address *a);
/* Adds a held socket for conf with fd (refs 1). */
struct held_socket *model_socket_add(const struct socket_conf *conf, int fd, bool stored);
void model_socket_rename(struct held_socket *h, const char *name);
void model_socket_set_backlog(struct held_socket *h, int backlog);
void model_socket_set_group_index(struct held_socket *h, int index);
void model_socket_set_stored(struct held_socket *h, bool stored);
/* One more generation uses it. */
void model_socket_ref(struct held_socket *h);
/* One generation fewer; true when none is left (the caller closes it,
 * then calls model_socket_free). */
bool model_socket_unref(struct held_socket *h);
void model_socket_free(struct held_socket *h);
/* Its position in the model's list, and back (an upgrade names sockets by
 * it); NULL past the end. */
int model_socket_index(const struct held_socket *h);
struct held_socket *model_socket_at(int i);

/* --- generations --- */
/* A new generation for config with its held sockets (array taken), the
 * next number, state GEN_STARTING, every program with 0 workers. */
struct generation *model_generation_new(struct config *config, struct held_socket **sockets);
void model_generation_set_state(struct generation *g, enum generation_state s);
void model_set_serving(struct generation *g);
void model_set_pending(struct generation *g);
/* Frees a generation that no worker uses and that neither serves nor is
 * pending; its sockets are unreferenced (see model_socket_unref) through
 * release, called for each. */
void model_generation_free(struct generation *g, void (*release)(struct held_socket *));
struct program_run *model_program(const struct generation *g, const char *name);
/* Also names the release (see program_run.release). */
void model_program_set_directory(struct program_run *p, const char *dir, bool pinned);
/* The release a program of config c names in directory dir (malloc'd). */
char *model_release_name(const struct program_conf *c, const char *dir);
/* The generation's release: its programs' distinct releases, joined by
 * "+" (one program, or programs of one release: just that name). */
void model_generation_release(const struct generation *g, char *buf, size_t len);
/* A check's result. A check that starts begins its results from 0, except
 * the first start after an upgrade in place, which goes on from the old
 * image's (a failure streak survives the upgrade). */
void model_check_result(struct program_run *p, bool ok, const char *why);
void model_check_begin(struct program_run *p);
void model_check_set_io(struct program_run *p, void *io);
/* Sets how many workers are wanted; slots are allocated as needed. */
void model_program_set_desired(struct program_run *p, int desired);
int model_program_ready(const struct program_run *p);
bool model_generation_ready(const struct generation *g);

/* --- slots --- */
/* A slot's worker left it; `failure` non-NULL when nobody asked (a crash,
 * a timeout, a start that failed): the restart delay doubles unless the
 * worker ran `ran` >= MODEL_HEALTHY_RUN seconds. Returns true when this
 * made a crash loop (MODEL_CRASH_LOOP failures in a row). */
bool model_slot_vacate(struct slot *s, const char *failure, double ran, double now);
bool model_slot_in_crash_loop(const struct slot *s);
/* A worker that failed while alive (timed out, said STOPPING=1) left the
 * slot: its replacement waits for its end, then for the restart delay. */
void model_slot_wait_exit(struct slot *s);
void model_slot_exited(struct slot *s, double now);
void model_slot_clear_due(struct slot *s);
/* Most workers a program may have (config and `scale` enforce it). */
#define MODEL_MAX_WORKERS 10000
#define MODEL_HEALTHY_RUN 10.0
#define MODEL_CRASH_LOOP  5

/* --- workers --- */
struct worker *model_worker_new(struct program_run *p, int slot, double now_mono, double now_wall);
void model_worker_set_pid(struct worker *w, pid_t pid);
void model_worker_set_state(struct worker *w, enum worker_state s, double deadline,
			    double now_wall);
void model_worker_set_status(struct worker *w, const char *text);
void model_worker_set_io(struct worker *w, void *io);
/* Unlinks and frees it (its io must be gone). */
void model_worker_free(struct worker *w);
struct worker *model_worker_by_pid(pid_t pid);

/* --- the rest --- */
void model_set_config(struct config *c);
void model_set_stopping(void);
struct counters *model_counters(void);
void model_init(double wall, double mono);

/* The model as JSON for an upgrade in place (state.h), and back. Worker
 * descriptors and watchers are worker.c's part. */
json_t *model_save(void);
int model_restore(json_t *j, char *err, size_t len);

#endif
