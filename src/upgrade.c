/* upgrade.c: upgrade in place: a new segue binary takes over the same
 * process, with every socket, worker and deadline: preflight, handover
 * through a sealed memfd, adoption, and a fallback to the previous image
 * when adoption fails. */
/* SPDX-License-Identifier: MIT */
#include "upgrade.h"
#include "check.h"
#include "env.h"
#include "log.h"
#include "model.h"
#include "reload.h"
#include "spawn.h"
#include "state.h"
#include "steer.h"
#include "utf8.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A preflight that has not answered by then has failed. */
#define PREFLIGHT_SECONDS 10.0

static struct strv args;     /* how segue was started, less our options */
static char *start_path;     /* argv[0] made absolute: resolved at each upgrade */
static int image_fd = -1;    /* this image, for a fallback to it */
static int previous_fd = -1; /* after an upgrade: the image before, until adopted */
static char *from_version;   /* after an upgrade: the image before's */
static double requested;     /* monotonic time of the request */

static struct {
	pid_t pid;
	int out; /* read end of its stdout */
	char *binary;
	ev_timer timeout;
} preflight = {.out = -1};

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *found = NULL;
	for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
		char *p = xasprintf("%s/%s", dir, name);
		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static char *absolute(const char *argv0)
{
	if (argv0[0] == '/')
		return xstrdup(argv0);
	if (!strchr(argv0, '/'))
		return find_in_path(argv0);
	char *cwd = getcwd(NULL, 0);
	char *p = cwd ? xasprintf("%s/%s", cwd, argv0) : NULL;
	free(cwd);
	return p;
}

void upgrade_init(int argc, char **argv)
{
	start_path = absolute(argv[0]);
	/* An upgrade puts its options first: only those are skipped, never a
	 * word of the app's command that happens to look the same. */
	int i = 1;
	while (i + 1 < argc && (strcmp(argv[i], UPGRADE_STATE_FD_OPTION) == 0 ||
				strcmp(argv[i], UPGRADE_FALLBACK_OPTION) == 0))
		i += 2;
	for (; i < argc; i++)
		strv_push(&args, xstrdup(argv[i]));
}

void upgrade_hold_image(void)
{
	image_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (image_fd < 0)
		syswarn("opening this image (/proc/self/exe): no upgrade can fall back to it");
}

void upgrade_cleanup(void)
{
	strv_free(&args);
	free(start_path);
	free(from_version);
	free(preflight.binary);
	start_path = from_version = preflight.binary = NULL;
	if (image_fd >= 0 && close(image_fd) < 0)
		syswarn("closing this image's descriptor");
	image_fd = -1;
}

static void failed(const char *reason)
{
	event_emit(
	    LEVEL_ERROR, "upgrade_failed",
	    json_pack("{s:o, s:s}", "reason", json_string_utf8(reason), "from", segue_version),
	    "%s", reason);
}

/* --- the preflight ------------------------------------------------------- */

static void preflight_end(void)
{
	ev_timer_stop(EV_DEFAULT, &preflight.timeout);
	if (preflight.out >= 0 && close(preflight.out) < 0)
		syswarn("closing the preflight's output");
	preflight.out = -1;
	preflight.pid = 0;
}

static void timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	if (preflight.pid > 0 && kill(-preflight.pid, SIGKILL) < 0 && errno != ESRCH)
		syswarn("stopping the preflight");
	/* reaped as an orphan: the upgrade is over now */
	preflight_end();
	char why[PATH_MAX + 64];
	snprintf(why, sizeof(why), "%s --upgrade-check did not answer within %gs", preflight.binary,
		 PREFLIGHT_SECONDS);
	failed(why);
}

/* Runs BINARY --upgrade-check FORMAT with its output in a pipe. */
static int run_preflight(const char *binary, char *err, size_t len)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, len, "pipe: %s", strerror(errno));
		return -1;
	}
	struct strv env = {0};
	env_base(&env, NULL, 0);
	env_add(&env, "SEGUE_UPGRADE_BINARY", "%s", binary);
	char *command = xasprintf("\"$SEGUE_UPGRADE_BINARY\" --upgrade-check %d", STATE_FORMAT);
	struct spawn_spec spec = {.command = command, .env = env.v, .output_fd = fds[1]};
	preflight.pid = spawn(&spec, err, len);
	free(command);
	strv_free(&env);
	if (close(fds[1]) < 0)
		syswarn("closing the preflight's pipe");
	if (preflight.pid < 0) {
		preflight.pid = 0;
		if (close(fds[0]) < 0)
			syswarn("closing the preflight's pipe");
		return -1;
	}
	preflight.out = fds[0];
	ev_timer_init(&preflight.timeout, timeout_cb, PREFLIGHT_SECONDS, 0);
	ev_timer_start(EV_DEFAULT, &preflight.timeout);
	return 0;
}

static const char *busy(void)
{
	if (model->stopping)
		return "busy: segue is stopping";
	if (reload_running() && !reload_holding())
		return "busy: a reload is running; upgrade when it ends (or while its canary is "
		       "held)";
	return NULL;
}

int upgrade_start(char *err, size_t len)
{
	char *binary = start_path ? realpath(start_path, NULL) : NULL;
	if (preflight.pid > 0)
		snprintf(err, len, "busy: an upgrade is running");
	else if (busy())
		snprintf(err, len, "%s", busy());
	else if (!binary || access(binary, X_OK) < 0)
		snprintf(err, len, "binary %s: %s", start_path ? start_path : "(unknown)",
			 strerror(errno));
	else {
		free(preflight.binary);
		preflight.binary = binary;
		requested = now_mono();
		event_emit(LEVEL_INFO, "upgrade_started",
			   json_pack("{s:s, s:o}", "from", segue_version, "binary",
				     json_string_utf8(binary)),
			   "checking %s", binary);
		if (run_preflight(binary, err, len) == 0)
			return 0;
		binary = NULL;
	}
	free(binary);
	failed(err);
	return -1;
}

/* --- handover ------------------------------------------------------------ */

/* argv for the next image: the path segue was started from (so that the
 * upgrade after this one resolves it again), our options, then the
 * original ones. */
static char **next_argv(int state_fd, int image, const char *fallback_reason)
{
	struct strv v = {0};
	strv_push(&v, xstrdup(start_path));
	strv_push(&v, xstrdup(UPGRADE_STATE_FD_OPTION));
	strv_push(&v, xasprintf("%d,%d", state_fd, image));
	if (fallback_reason) {
		strv_push(&v, xstrdup(UPGRADE_FALLBACK_OPTION));
		strv_push(&v, xstrdup(fallback_reason));
	}
	for (size_t i = 0; i < args.n; i++)
		strv_push(&v, xstrdup(args.v[i]));
	return v.v;
}

static void free_argv(char **v)
{
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Every signal waits, blocked, until the next image watches for it: a
 * HUP that came during the exec would otherwise end segue (SIG_DFL). */
static void block_signals(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, old);
}

static void handover(void)
{
	char err[512];
	if (busy()) {
		failed(busy());
		return;
	}
	steer_flush(); /* a failed canary's generation drains before the state is saved */
	int fd = state_write(err, sizeof(err));
	if (fd < 0) {
		failed(err);
		return;
	}
	char **argv = next_argv(fd, image_fd, NULL);
	/* A running check would outlive the exec with nobody to time it out;
	 * the next image starts the checks it wants, going on from their
	 * results (model.c saves them). */
	check_forget();
	sigset_t old;
	block_signals(&old);
	if (fd_set_cloexec(image_fd, false) == 0)
		execve(preflight.binary, argv, environ);
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd_set_cloexec(image_fd, true) < 0)
		syswarn("this image's descriptor");
	state_abandon(fd);
	free_argv(argv);
	snprintf(err, sizeof(err), "exec %s: %s", preflight.binary, strerror(saved));
	failed(err);
}

/* The preflight said "segue VERSION" and exited 0: the binary is a segue
 * that reads this state format. */
bool upgrade_child_exited(pid_t pid, int status)
{
	if (pid <= 0 || pid != preflight.pid)
		return false;
	char out[256] = "";
	ssize_t n = read(preflight.out, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	preflight_end();
	char why[PATH_MAX + 400];
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strncmp(out, "segue ", 6) == 0) {
		handover();
		return true;
	}
	snprintf(why, sizeof(why), "%s --upgrade-check %d failed (%s %d)%s%.200s", preflight.binary,
		 STATE_FORMAT, WIFEXITED(status) ? "status" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *out ? ": " : "", out);
	failed(why);
	return true;
}

/* --- adoption ------------------------------------------------------------ */

json_t *upgrade_save(void)
{
	return json_pack("{s:s, s:f}", "from", segue_version, "requested", requested);
}

int upgrade_restore(json_t *j, char *err, size_t len)
{
	const char *from = json_string_value(json_object_get(j, "from"));
	free(from_version);
	from_version = xstrdup(from ? from : "?");
	requested = json_number_value(json_object_get(j, "requested"));
	return 0;
}

void upgrade_adopted(const char *fallback_reason)
{
	if (fallback_reason) {
		char why[1024];
		snprintf(why, sizeof(why), "the new image could not take over: %s",
			 fallback_reason);
		failed(why);
		return;
	}
	double ms = (now_mono() - requested) * 1000.0;
	event_emit(LEVEL_INFO, "upgrade_succeeded",
		   json_pack("{s:s, s:s, s:i, s:I}", "from", from_version, "to", segue_version,
			     "pid", (int)getpid(), "duration_ms", (json_int_t)(ms + 0.5)),
		   "segue upgraded: pid %d, %s -> %s", (int)getpid(), from_version, segue_version);
}

void upgrade_fall_back(int state_fd, const char *reason)
{
	if (previous_fd < 0) {
		warn("upgrade: no previous image to fall back to: %s", reason);
		return;
	}
	char **argv = next_argv(state_fd, previous_fd, reason);
	sigset_t old;
	block_signals(&old);
	execveat(previous_fd, "", argv, environ, AT_EMPTY_PATH);
	sigprocmask(SIG_SETMASK, &old, NULL);
	syswarn("upgrade: running the previous image again");
	free_argv(argv);
}

/* The descriptor of the image before this one (from --state-fd N,M): a
 * fallback runs it; once adopted, it is closed. */
void upgrade_set_previous(int fd)
{
	previous_fd = fd;
}

void upgrade_forget_previous(void)
{
	if (previous_fd >= 0 && previous_fd != image_fd && close(previous_fd) < 0)
		syswarn("closing the previous image's descriptor");
	previous_fd = -1;
}
