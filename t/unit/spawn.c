/* t/unit/spawn.c: unit tests for the parent-death signal of spawned children. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/spawn.h"
#include "../../src/util.h"
#include "../tap.h"

static char *env[] = {"PATH=/usr/bin:/bin", NULL};

/* What the stand-in for segue does once its worker runs. */
enum after { DIE, EXEC_THEN_EXIT };

/* Forks a stand-in for segue, which spawns "sleep 30" with death_signal
 * (and, with as_nobody, uid and gid 65534), sends us the worker's pid,
 * then is SIGKILLed, or first execs a shell that lives 300 ms. Returns the
 * worker's pid (our descendant: we are a subreaper), or -1. */
static pid_t spawn_via_segue(int death_signal, bool as_nobody, enum after after, pid_t *segue)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	*segue = fork();
	if (*segue == 0) {
		static const gid_t groups[] = {65534};
		struct spawn_spec spec = {.command = "sleep 30",
					  .env = env,
					  .output_fd = -1,
					  .death_signal = death_signal};
		char err[256];
		if (as_nobody) {
			spec.set_ids = true;
			spec.uid = spec.gid = 65534;
			spec.groups = groups;
			spec.ngroups = 1;
		}
		pid_t w = spawn(&spec, err, sizeof(err));
		if (write(p[1], &w, sizeof(w)) != sizeof(w))
			_exit(1);
		if (after == EXEC_THEN_EXIT)
			execl("/bin/sh", "sh", "-c", "exec sleep 0.3", (char *)NULL);
		raise(SIGKILL);
		_exit(1);
	}
	close(p[1]);
	pid_t w = -1;
	if (read(p[0], &w, sizeof(w)) != sizeof(w))
		w = -1;
	close(p[0]);
	return w;
}

/* Waits up to secs for pid to end; its wait status, or -1 if it did not. */
static int wait_end(pid_t pid, double secs)
{
	double end = now_mono() + secs;
	int status;

	while (now_mono() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		struct timespec nap = {0, 5000000};
		nanosleep(&nap, NULL);
	}
	return -1;
}

static bool killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* Waits up to 5 s for the worker to be killed by sig; kills it if not, so
 * that a failed test leaves nothing behind. */
static bool worker_killed_by(pid_t w, int sig)
{
	int status = wait_end(w, 5);

	if (status == -1 && w > 0) {
		kill(w, SIGKILL);
		waitpid(w, NULL, 0);
	}
	return killed_by(status, sig);
}

/* The first word of /proc/PID/comm is want. */
static bool comm_is(pid_t pid, const char *want)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, want) == 0;
}

static void test_death_signal(void)
{
	pid_t segue, w = spawn_via_segue(SIGTERM, false, DIE, &segue);

	ok(w > 0, "a worker spawned with death_signal TERM");
	ok(killed_by(wait_end(segue, 5), SIGKILL), "segue is SIGKILLed");
	ok(worker_killed_by(w, SIGTERM), "the worker gets TERM");

	w = spawn_via_segue(0, false, DIE, &segue);
	ok(w > 0, "a worker spawned without a death signal");
	wait_end(segue, 5);
	is_int(-1, wait_end(w, 0.3), "it lives on when segue dies");
	kill(w, SIGKILL);
	wait_end(w, 5);
}

static void test_after_setuid(void)
{
	if (geteuid() != 0) {
		ok(true, "# SKIP dropping to uid 65534 needs root");
		return;
	}
	pid_t segue, w = spawn_via_segue(SIGINT, true, DIE, &segue);
	ok(w > 0, "a worker spawned as uid 65534 with death_signal INT");
	wait_end(segue, 5);
	ok(worker_killed_by(w, SIGINT), "it gets INT: set after the uid change");
}

static void test_exec_keeps_it(void)
{
	pid_t segue, w = spawn_via_segue(SIGTERM, false, EXEC_THEN_EXIT, &segue);
	double end = now_mono() + 5;

	ok(w > 0, "a worker spawned with death_signal TERM");
	while (!comm_is(segue, "sleep") && now_mono() < end) {
		struct timespec nap = {0, 2000000};
		nanosleep(&nap, NULL);
	}
	ok(comm_is(segue, "sleep"), "segue execs another image");
	ok(kill(w, 0) == 0 && !comm_is(w, ""), "the worker lives on through that exec");
	ok(wait_end(segue, 5) != -1, "then segue exits");
	ok(worker_killed_by(w, SIGTERM), "and the worker gets TERM");
}

int main(void)
{
	plan_lazy();
	alarm(60);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		skip_all("cannot become a subreaper");
	test_death_signal();
	test_after_setuid();
	test_exec_keeps_it();
	return tap_done();
}
