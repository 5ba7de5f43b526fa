/* spawn.c: fork and exec a child with exactly the descriptors it should have. */
/* SPDX-License-Identifier: MIT */
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the child reports through the error pipe when a step fails. */
struct child_error {
	int step;
	int err;
};

enum child_step {
	STEP_PIPE,
	STEP_DEVNULL,
	STEP_OUTPUT,
	STEP_FDS,
	STEP_CHDIR,
	STEP_GROUPS,
	STEP_GID,
	STEP_UID,
	STEP_DEATH_SIGNAL,
	STEP_EXEC,
};

static const char *const step_names[] = {
    "pipe",	    "open /dev/null", "redirect output",
    "pass sockets", "chdir",	      "setgroups",
    "setgid",	    "setuid",	      "set the parent-death signal",
    "exec /bin/sh",
};

static void close_from(int lowest, int keep)
{
	/* close_range needs Linux 5.9; fall back to a loop before that. */
	if (keep >= lowest) {
		if (keep > lowest && syscall(SYS_close_range, lowest, keep - 1, 0) < 0)
			for (int fd = lowest; fd < keep; fd++)
				close(fd);
		lowest = keep + 1;
	}
	if (syscall(SYS_close_range, lowest, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = lowest; fd < max; fd++)
			close(fd);
	}
}

static void reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* fails harmlessly for 32, 33 */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Writes n in decimal at p; async-signal-safe. */
static void put_decimal(char *p, long n)
{
	char tmp[SPAWN_PID_ROOM];
	int len = 0;
	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && len < (int)sizeof(tmp) - 1);
	while (len > 0)
		*p++ = tmp[--len];
	*p = '\0';
}

/* Moves the sockets to 3, 4, ...: first above every fd involved so that
 * no dup2 overwrites a source still to be moved. */
static int place_fds(const struct spawn_spec *s, int *errfd)
{
	int base = 3 + (int)s->nfds;
	for (size_t i = 0; i < s->nfds; i++)
		if (s->fds[i] >= base)
			base = s->fds[i] + 1;
	int moved = fcntl(*errfd, F_DUPFD_CLOEXEC, base);
	if (moved < 0)
		return -1;
	*errfd = moved;
	int tmp[s->nfds ? s->nfds : 1];
	for (size_t i = 0; i < s->nfds; i++)
		if ((tmp[i] = fcntl(s->fds[i], F_DUPFD, moved + 1)) < 0)
			return -1;
	for (size_t i = 0; i < s->nfds; i++)
		if (dup2(tmp[i], 3 + (int)i) < 0)
			return -1;
	close_from(3 + (int)s->nfds, *errfd);
	return 0;
}

static int set_ids(const struct spawn_spec *s, enum child_step *step)
{
	*step = STEP_GROUPS;
	if (setgroups(s->ngroups, s->groups) < 0)
		return -1;
	*step = STEP_GID;
	if (setgid(s->gid) < 0)
		return -1;
	*step = STEP_UID;
	return setuid(s->uid);
}

static int setup_io(const struct spawn_spec *s, enum child_step *step)
{
	*step = STEP_DEVNULL;
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0)
		return -1;
	if (null != 0)
		close(null);
	*step = STEP_OUTPUT;
	if (s->output_fd >= 0 && (dup2(s->output_fd, 1) < 0 || dup2(s->output_fd, 2) < 0))
		return -1;
	return 0;
}

/* The child gets sig when segue dies (SIGKILL, the OOM killer), so that it
 * drains instead of serving on unsupervised. Set after the uid change,
 * which clears it; exec keeps it, and segue's own exec (an upgrade in
 * place) does not trigger it: only the death of the forking thread does.
 * If segue died before this point, no signal will ever come: exit. */
static int set_death_signal(int sig, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig) < 0)
		return -1;
	if (getppid() != parent)
		_exit(127);
	return 0;
}

static void __attribute__((noreturn))
child(const struct spawn_spec *s, char *script, int errfd, pid_t parent)
{
	enum child_step step = STEP_PIPE;
	reset_signals();
	setpgid(0, 0);
	if (setup_io(s, &step) < 0)
		goto fail;
	step = STEP_FDS;
	if (place_fds(s, &errfd) < 0)
		goto fail;
	step = STEP_CHDIR;
	if (s->directory && chdir(s->directory) < 0)
		goto fail;
	if (s->set_ids && set_ids(s, &step) < 0)
		goto fail;
	step = STEP_DEATH_SIGNAL;
	if (s->death_signal > 0 && set_death_signal(s->death_signal, parent) < 0)
		goto fail;
	if (s->listen_pid_slot)
		put_decimal(s->listen_pid_slot, (long)getpid());
	step = STEP_EXEC;
	char *argv[] = {"sh", "-c", script, NULL};
	execve("/bin/sh", argv, s->env);
fail:;
	struct child_error e = {step, errno};
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* the parent sees a short read and reports it */
	}
	_exit(127);
}

static int read_child_error(int fd, struct child_error *e)
{
	for (;;) {
		ssize_t n = read(fd, e, sizeof(*e));
		if (n < 0 && errno == EINTR)
			continue;
		return n == (ssize_t)sizeof(*e) ? 1 : 0;
	}
}

pid_t spawn(const struct spawn_spec *s, char *err, size_t errlen)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	/* Built before the fork: the child may only make async-signal-safe
	 * calls, and malloc is not one. */
	char *script = xasprintf("%s%s", s->shell_line ? "" : "exec ", s->command);
	pid_t parent = getpid();
	/* vfork: no copy of segue's page tables, which with 1,000 workers
	 * was a third of a reload's CPU; segue waits for the exec anyway.
	 * Signals are blocked meanwhile, so that no handler of segue's runs
	 * in the child, which shares its memory; the child sets its own
	 * dispositions to default before it unblocks them. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = vfork();
	if (pid == 0)
		child(s, script, pipefd[1], parent);
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(saved));
		close(pipefd[0]);
		close(pipefd[1]);
		free(script);
		return -1;
	}
	free(script);
	/* The child made its own process group before this returned: vfork
	 * resumes the parent only after the child's exec or exit. */
	close(pipefd[1]);
	struct child_error e;
	int failed = read_child_error(pipefd[0], &e);
	close(pipefd[0]);
	if (!failed)
		return pid;
	const char *where = e.step == STEP_CHDIR && s->directory ? s->directory : "";
	snprintf(err, errlen, "%s%s%s: %s", step_names[e.step], *where ? " " : "", where,
		 strerror(e.err));
	return -1;
}

int spawn_lookup_ids(const char *user, const char *group, struct spawn_spec *s, gid_t **groups_out,
		     char *err, size_t errlen)
{
	*groups_out = NULL;
	s->set_ids = false;
	if ((!user || !*user) && (!group || !*group))
		return 0;
	s->uid = getuid();
	s->gid = getgid();
	const char *name = NULL;
	if (user && *user) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "unknown user \"%s\"", user);
			return -1;
		}
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
		name = pw->pw_name;
	}
	const struct group *gr = group && *group ? getgrnam(group) : NULL;
	if (group && *group && !gr) {
		snprintf(err, errlen, "unknown group \"%s\"", group);
		return -1;
	}
	s->gid = gr ? gr->gr_gid : s->gid;
	int n = 0;
	if (name) {
		getgrouplist(name, s->gid, NULL, &n);
		*groups_out = xcalloc((size_t)n + 1, sizeof(gid_t));
		if (getgrouplist(name, s->gid, *groups_out, &n) < 0)
			n = 0;
	} else {
		*groups_out = xcalloc(1, sizeof(gid_t));
		(*groups_out)[0] = s->gid;
		n = 1;
	}
	s->groups = *groups_out;
	s->ngroups = (size_t)n;
	s->set_ids = true;
	return 0;
}
