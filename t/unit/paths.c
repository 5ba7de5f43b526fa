/* t/unit/paths.c: unit tests for the default control socket path. */
/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/paths.h"
#include "../tap.h"

#define SYSTEM_PATH RUNSTATEDIR "/segue/control.sock"
#define NOBODY	    65534

/* Sets or (value NULL) unsets both variables. */
static void env(const char *control, const char *xdg)
{
	if ((control ? setenv("SEGUE_CONTROL", control, 1) : unsetenv("SEGUE_CONTROL")) < 0 ||
	    (xdg ? setenv("XDG_RUNTIME_DIR", xdg, 1) : unsetenv("XDG_RUNTIME_DIR")) < 0) {
		perror("setenv");
		exit(1);
	}
}

static void path_is(const char *want, const char *control, const char *xdg, const char *name)
{
	char buf[256] = "";

	env(control, xdg);
	is_int(0, control_default_path(buf, sizeof(buf)), "%s: fits", name);
	is_string(want, buf, "%s", name);
}

/* As a user other than root, in a child; its answer comes back on a pipe. */
static void user_path_is(const char *want, const char *control, const char *xdg, const char *name)
{
	char buf[256] = "";
	int fds[2], status;
	ssize_t n;

	if (pipe(fds) < 0 || fflush(stdout) == EOF)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(fds[0]);
		env(control, xdg);
		if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0 ||
		    control_default_path(buf, sizeof(buf)) < 0 ||
		    write(fds[1], buf, strlen(buf)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		abort();
	is_int(0, status, "%s: the child as uid %d ran", name, NOBODY);
	is_string(want, buf, "%s", name);
}

/* $SEGUE_CONTROL first, for everyone; an empty one does not count. */
static void test_segue_control(void)
{
	path_is("/tmp/a.sock", "/tmp/a.sock", "/run/user/1000", "SEGUE_CONTROL wins");
	path_is("relative.sock", "relative.sock", NULL, "SEGUE_CONTROL taken as it is");
	path_is(geteuid() == 0 ? SYSTEM_PATH : "/run/user/1000/segue/control.sock", "",
		"/run/user/1000", "an empty SEGUE_CONTROL is not set");
}

static void test_root_and_user(void)
{
	if (geteuid() != 0) {
		path_is("/run/user/1000/segue/control.sock", NULL, "/run/user/1000",
			"a user: under XDG_RUNTIME_DIR");
		path_is(SYSTEM_PATH, NULL, NULL, "a user without XDG_RUNTIME_DIR: the system's");
		path_is(SYSTEM_PATH, NULL, "",
			"a user with an empty XDG_RUNTIME_DIR: the system's");
		diag("not root: root's own path is not tested");
		return;
	}
	path_is(SYSTEM_PATH, NULL, "/run/user/0", "root: the system's, despite XDG_RUNTIME_DIR");
	path_is(SYSTEM_PATH, NULL, NULL, "root without XDG_RUNTIME_DIR: the system's");
	user_path_is("/run/user/1000/segue/control.sock", NULL, "/run/user/1000",
		     "a user: under XDG_RUNTIME_DIR");
	user_path_is(SYSTEM_PATH, NULL, NULL, "a user without XDG_RUNTIME_DIR: the system's");
	user_path_is(SYSTEM_PATH, NULL, "", "a user with an empty XDG_RUNTIME_DIR: the system's");
	user_path_is("/tmp/b.sock", "/tmp/b.sock", "/run/user/1000", "a user: SEGUE_CONTROL wins");
}

/* A path that does not fit is an error, and buf still a string. */
static void test_too_long(void)
{
	char small[8];

	env("/tmp/a/long/path.sock", NULL);
	memset(small, 'x', sizeof(small));
	is_int(-1, control_default_path(small, sizeof(small)), "too long: -1");
	is_string("/tmp/a/", small, "too long: cut short and terminated");
	is_int(-1, control_default_path(NULL, 0), "no buffer: -1");
	env("12345678", NULL);
	is_int(-1, control_default_path(small, sizeof(small)), "one byte over: -1");
	env("1234567", NULL);
	is_int(0, control_default_path(small, sizeof(small)), "exactly fits: 0");
}

int main(void)
{
	plan_lazy();
	test_segue_control();
	test_root_and_user();
	test_too_long();
	return tap_done();
}
