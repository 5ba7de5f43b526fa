/* spawn.h: fork and exec a child with exactly the descriptors it should have. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SPAWN_H
#define SEGUE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct spawn_spec {
	const char *command;   /* run as /bin/sh -c 'exec COMMAND' */
	const char *directory; /* NULL: segue's own */
	const int *fds;	       /* become fds 3, 4, ... in this order */
	size_t nfds;
	char **env; /* the whole environment */
	/* If non-NULL, an entry of env that ends in "LISTEN_PID=" followed by
	 * room for 20 characters: the child writes its own pid there. */
	char *listen_pid_slot;
	bool set_ids; /* drop to uid/gid/groups */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	int output_fd;	 /* -1: inherit stdout/stderr; else both go there */
	bool shell_line; /* run as /bin/sh -c COMMAND, without the exec */
	/* Sent to the child when segue dies (PR_SET_PDEATHSIG), e.g. the
	 * drain signal; 0 for none. Not sent when segue execs itself. */
	int death_signal;
};

/* Starts the child (a worker: /bin/sh -c 'exec COMMAND', so the worker's
 * pid is the app's; with shell_line, /bin/sh -c COMMAND, so that "a && b"
 * works) in its own process group (its pid is the group id).
 * stdin is /dev/null, the signal mask and dispositions are reset, no other
 * descriptor is inherited. Returns the pid, or -1 with a message in err
 * when the child could not be set up or exec'ed (it has then exited). */
pid_t spawn(const struct spawn_spec *spec, char *err, size_t errlen);

/* Room to reserve after "LISTEN_PID=" in listen_pid_slot. */
#define SPAWN_PID_ROOM 20

/* Looks up user (and group, or the user's primary group, and the user's
 * supplementary groups) for spawn_spec. Returns 0, or -1 with a message. */
int spawn_lookup_ids(const char *user, const char *group, struct spawn_spec *spec,
		     gid_t **groups_out, char *err, size_t errlen);

#endif
