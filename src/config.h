/* config.h: the configuration object, from a file or from the command line. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_CONFIG_H
#define SEGUE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"
#include "parse.h"

enum ready_mode { READY_NOTIFY, READY_DELAY, READY_EXEC };
enum reload_mode { RELOAD_ALL_AT_ONCE, RELOAD_ROLLING };
enum stdout_mode { STDOUT_INHERIT, STDOUT_CAPTURE };
/* Where the drain signal goes; SIGKILL after drain-timeout always goes to
 * the whole process group. */
enum kill_mode { KILL_GROUP, KILL_PROCESS };
/* How a reload hands a socket's address to the new generation (steer.h). */
enum handover { HANDOVER_SHARED, HANDOVER_STEER };

/* Bit flags for fd-protocol. */
enum fd_protocol { FD_PROTO_EINHORN = 1, FD_PROTO_SERVER_STARTER = 2 };

struct socket_conf {
	char *name;
	char *listen; /* as written */
	struct address addr;
	int backlog;
	bool reuseport;
	bool v6only;
	bool nodelay; /* TCP_NODELAY; accepted connections inherit it */
	mode_t mode;  /* unix sockets */
	char *owner;  /* unix sockets; "" for none */
	char *group;
	enum handover handover;
	double steer_quiesce; /* steer: longest wait for the old accept queue */
	int line;	      /* where it was defined, for messages */
};

struct program_conf {
	char *name;
	char *command;	 /* run as /bin/sh -c 'exec COMMAND' */
	char *directory; /* "" for segue's working directory */
	size_t nsockets;
	char **sockets;	   /* names, in fd order */
	int *socket_index; /* index into config.sockets for each name */
	int workers;
	char *user; /* "" for segue's own */
	char *group;
	size_t nenv;
	char **env;	       /* "KEY=VALUE" */
	unsigned fd_protocols; /* enum fd_protocol bits */
	enum ready_mode ready;
	double ready_delay;
	char *ready_command;
	double ready_timeout;
	int drain_signal;
	double drain_timeout;
	enum kill_mode kill_mode;
	enum reload_mode reload;
	int max_surge;
	double restart_delay;
	double restart_max_delay;
	enum stdout_mode stdout_mode;
	/* deploy safety (SPEC "Deploy safety") */
	char *release;	    /* "" : the basename of the resolved directory */
	int canary;	    /* new workers started first; 0: no canary phase */
	int canary_percent; /* or this share of the workers (1-100), if set */
	double canary_hold;
	int canary_weight; /* steer: the canary's share of new connections
			      (1-100); 0: none */
	char *check;	   /* "" : none */
	double check_interval;
	double check_timeout;
	int check_failures; /* in a row, to judge a release bad */
	bool check_always;  /* also outside canaries and watches, for health */
	double watch;	    /* probation after a cut-over; 0: none */
	int line;
};

struct config {
	unsigned refs;
	char *file; /* NULL in quick mode */
	char *text; /* the file's text as parsed (NUL-terminated); NULL in quick mode */
	size_t text_len;
	char *control; /* "" when unset: the caller picks the default */
	mode_t control_mode;
	char *control_group;
	char *pidfile;
	enum log_format log_format;
	char *log_file;
	char *statsd;
	char *hook;
	double hook_timeout; /* a hook still running then is killed */
	bool fdstore;
	size_t nadmin;
	struct socket_conf *admin; /* admin-listen: segue's own HTTP listeners (admin.h) */
	bool exit_on_crash_loop;   /* a crash loop stops segue (crashstop.h) */
	size_t nsockets;
	struct socket_conf *sockets;
	size_t nprograms;
	struct program_conf *programs;
};

/* Values given on the command line. In quick mode they describe the one
 * program "app"; with a file they are the defaults for every program key
 * the file leaves unset (and the global keys they name win over the file). */
struct config_defaults {
	const char *directory;
	int workers;	   /* 0: unset */
	const char *ready; /* NULL: unset, likewise below */
	const char *ready_delay;
	const char *ready_timeout;
	const char *drain_signal;
	const char *drain_timeout;
	const char *fd_protocol; /* comma-separated list */
	const char *control;
	const char *pidfile;
	const char *log_format;
};

/* Reads and validates FILE. Problems go to `errors` as "FILE:LINE: message"
 * lines, one each, and NULL is returned. */
struct config *config_load(const char *file, const struct config_defaults *defs, FILE *errors);

/* The same from text that FILE held once (an upgrade in place hands on
 * the text each generation was started from). */
struct config *config_load_text(const char *file, const char *text, size_t len,
				const struct config_defaults *defs, FILE *errors);

/* Builds the quick-mode config: sockets from `listen` ("[NAME=]ADDR"),
 * program "app" running argv joined into a command (each argument quoted
 * for the shell). Problems go to `errors`; NULL on error. */
struct config *config_quick(char *const listen[], size_t nlisten, char *const argv[], size_t argc,
			    const struct config_defaults *defs, FILE *errors);

struct config *config_ref(struct config *c);
void config_unref(struct config *c);

const struct socket_conf *config_socket(const struct config *c, const char *name);
const struct program_conf *config_program(const struct config *c, const char *name);

const char *ready_mode_name(enum ready_mode m);

#endif
