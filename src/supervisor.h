/* supervisor.h: the supervisor's state — held sockets, generations, workers —
 * shared by the files that act on it (supervisor, worker, reload, control). */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SUPERVISOR_H
#define SEGUE_SUPERVISOR_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

/* A listening socket segue holds. Held by address: a socket whose listen is
 * unchanged across a reload keeps its fd. */
struct held_socket {
	struct held_socket *next;
	struct socket_conf conf; /* copy; strings owned */
	int fd;
	unsigned refs; /* generations using it */
	bool stored;   /* also in systemd's fd store */
};

enum worker_state { WORKER_STARTING, WORKER_READY, WORKER_DRAINING };

struct program_run;

struct worker {
	struct worker *next_in_all; /* sv.workers, for lookups by pid */
	struct program_run *prog;
	int slot;
	pid_t pid; /* also its process group */
	enum worker_state state;
	bool exited; /* the leader is gone; its group may linger */
	bool drain_sent; /* segue asked it to stop: its exit is expected */
	double started; /* monotonic */
	double since;   /* wall clock of the last state change */
	unsigned restarts; /* of its slot before it */
	char status[256];
	int notify_fd;
	char notify_path[108]; /* its NOTIFY_SOCKET */
	double notify_warned; /* monotonic time of the last notify_ignored */
	ev_io notify_io;
	ev_timer timer;       /* ready-timeout, then drain-timeout */
	ev_timer ready_timer; /* exec: retry; delay: the delay */
	pid_t ready_pid;      /* exec: running ready-command, or 0 */
	int output_fd;        /* stdout = capture: read end, or -1 */
	ev_io output_io;
	char *output_buf;
	size_t output_len;
};

/* A slot of a program in a generation: one worker position. */
struct slot {
	struct worker *worker; /* current one, or NULL */
	unsigned failures;     /* consecutive */
	double delay;          /* next restart delay */
	unsigned restarts;
	ev_timer restart;
	struct program_run *prog;
	int index;
};

struct program_run {
	struct generation *gen;
	const struct program_conf *conf;
	char *directory; /* resolved at the last spawn; recorded for rollback */
	bool pinned;     /* directory is fixed (a rollback), not resolved again */
	int desired;
	int nslots;      /* allocated; each slot separately, as libev holds
			    pointers to their timers */
	struct slot **slots;
	/* rolling reload progress: next slot to replace */
	int next_slot;
};

enum generation_state {
	GEN_STARTING, /* a reload's new generation, not yet ready */
	GEN_SERVING,
	GEN_RETIRED,  /* drained after a newer one took over */
	GEN_FAILED,   /* rolled back */
};

struct generation {
	struct generation *next;
	unsigned number;
	enum generation_state state;
	struct config *config;
	struct held_socket **sockets; /* by config socket index */
	size_t nprograms;
	struct program_run *programs;
	double started; /* monotonic */
};

struct supervisor {
	struct ev_loop *loop;
	const char *config_file; /* NULL in quick mode */
	struct config_defaults defaults;
	struct config *config; /* the newest accepted */
	struct held_socket *sockets;
	struct generation *generations; /* newest first */
	struct generation *serving;
	struct generation *pending; /* a reload under way */
	struct worker *workers;
	unsigned last_generation;
	bool stopping;
	bool keep_stored; /* stopping: systemd keeps the fd store for a restart */
	double reload_started;
	char control_path[256];
	char *default_directory; /* quick mode: where segue was started */
	double started_wall;
	double started_mono;
	bool ever_ready;
	unsigned reloads_ok, reloads_failed;
	double last_reload_seconds;
	unsigned last_finished_reload; /* number of the newest reload that ended */
	json_t *last_reload_answer;   /* its answer for `reload wait` */
	unsigned worker_restarts, crash_loops;
	char last_reload[512]; /* the outcome of the last reload, for status */
};

extern struct supervisor sv;

/* supervisor.c */
int supervisor_run(struct config *config);
void supervisor_notify_systemd(const char *state);
void supervisor_status_line(char *buf, size_t len);
void supervisor_stop(bool now);
void supervisor_check_done(void);
struct held_socket *supervisor_hold_socket(const struct socket_conf *s, bool fdstore,
					   char *err, size_t len);
void supervisor_release_socket(struct held_socket *h);
void unstore_socket(const char *name);
struct generation *generation_new(struct config *config, char *err, size_t len);
struct program_run *generation_program(const struct generation *g, const char *name);
int program_ready_count(const struct program_run *p);
void generation_maybe_free(struct generation *g);
void generation_start_all(struct generation *g);
unsigned generation_live_workers(const struct generation *g);
bool generation_all_ready(const struct generation *g);
void generation_drain(struct generation *g);

/* worker.c */
void worker_spawn(struct program_run *p, int slot);
void worker_drain(struct worker *w);
void worker_kill(struct worker *w);
/* Frees a worker without waiting for it (at exit). */
void worker_forget(struct worker *w);
void worker_child_exited(pid_t pid, int status);
void slot_schedule_restart(struct slot *s, double ran);
void program_scale(struct program_run *p, int desired);
void slot_free(struct slot *s);
char *expand_command(const struct program_conf *c, unsigned generation, int slot);
const char *worker_state_name(enum worker_state s);
/* Failed 5 times in a row and not yet back to a healthy run. */
bool slot_in_crash_loop(const struct slot *s);

/* reload.c */
/* Returns the number of the reload that will serve this request (events
 * reload_succeeded, reload_failed and config_rejected carry it as
 * "reload"), or 0 when segue is stopping. */
unsigned reload_request(const char *why);
/* Starts the previous release again; 0 with a message when it cannot. */
unsigned reload_rollback(const char *why, char *err, size_t len);
void reload_forget(void);
void reload_worker_ready(struct worker *w);
void reload_worker_failed(struct worker *w, const char *reason);
void reload_stop(void);
bool reload_running(void);

#endif
