/* main.c: segue's command line: options, config, then the supervisor. */
/* SPDX-License-Identifier: MIT */
#include "admin.h"
#include "config.h"
#include "control.h"
#include "core.h"
#include "crashstop.h"
#include "launch.h"
#include "listen.h"
#include "log.h"
#include "model.h"
#include "notify.h"
#include "paths.h"
#include "reload.h"
#include "check.h"
#include "watch.h"
#include "sinks.h"
#include "systemd.h"
#include "state.h"
#include "steer.h"
#include "upgrade.h"
#include "util.h"
#include "version.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE   1
#define EXIT_RUNTIME 2

struct options {
	const char *config_file;
	bool test;
	struct strv listen;
	struct config_defaults defs;
	char **argv; /* quick mode command */
	size_t argc;
	int state_fd;	      /* adopt the state there (an upgrade in place) */
	int previous_fd;      /* the image before, for a fallback */
	const char *fallback; /* this is that fallback: why the upgrade failed */
	int upgrade_check;    /* the state format a preflight asks about, or -1 */
};

static const char usage_text[] =
    "Usage: segue [-c FILE] [OPTIONS]\n"
    "       segue [OPTIONS] -l [NAME=]ADDR ... -- COMMAND [ARG ...]\n"
    "       segue -t [-c FILE]\n"
    "\n"
    "Holds listening sockets and runs workers with them inherited; reloads\n"
    "with no connection refused (SIGHUP or seguectl reload).\n"
    "\n"
    "  -c, --config FILE        config file (default " SYSCONFDIR "/segue.conf)\n"
    "  -t, --test               check the config and exit 0 (good) or 1\n"
    "  -l, --listen [NAME=]ADDR quick mode: a socket to hold (repeatable)\n"
    "  -n, --workers N          quick mode: workers (default 1)\n"
    "  -d, --directory DIR      working directory, resolved at each spawn\n"
    "      --ready MODE         notify | delay | exec (default delay)\n"
    "      --ready-delay DUR    default 1s\n"
    "      --ready-timeout DUR  default 60s\n"
    "      --drain-signal SIG   default TERM\n"
    "      --drain-timeout DUR  default 30s\n"
    "      --fd-protocol LIST   einhorn,server-starter\n"
    "  -s, --control PATH       control socket\n"
    "      --pidfile FILE       write segue's pid there\n"
    "      --log-format FMT     logfmt | json (default logfmt)\n"
    "  -V, --version            print the version\n"
    "  -h, --help               print this help\n"
    "\n"
    "ADDR: HOST:PORT, [V6ADDR]:PORT, :PORT, unix:/path or systemd:NAME.\n"
    "Durations: 250ms, 30s, 5m, 1h or seconds. See segue(8), segue.conf(5).\n";

enum long_only {
	OPT_READY = 256,
	OPT_READY_DELAY,
	OPT_READY_TIMEOUT,
	OPT_DRAIN_SIGNAL,
	OPT_DRAIN_TIMEOUT,
	OPT_FD_PROTOCOL,
	OPT_PIDFILE,
	OPT_LOG_FORMAT,
	OPT_STATE_FD,
	OPT_UPGRADE_CHECK,
	OPT_UPGRADE_FALLBACK,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"test", no_argument, NULL, 't'},
    {"listen", required_argument, NULL, 'l'},
    {"workers", required_argument, NULL, 'n'},
    {"directory", required_argument, NULL, 'd'},
    {"ready", required_argument, NULL, OPT_READY},
    {"ready-delay", required_argument, NULL, OPT_READY_DELAY},
    {"ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT},
    {"drain-signal", required_argument, NULL, OPT_DRAIN_SIGNAL},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"fd-protocol", required_argument, NULL, OPT_FD_PROTOCOL},
    {"control", required_argument, NULL, 's'},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {"state-fd", required_argument, NULL, OPT_STATE_FD},
    {"upgrade-check", required_argument, NULL, OPT_UPGRADE_CHECK},
    {"upgrade-fallback", required_argument, NULL, OPT_UPGRADE_FALLBACK},
    {NULL, 0, NULL, 0},
};

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "segue: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'segue --help'.\n");
	exit(EXIT_USAGE);
}

static int parse_workers(const char *s)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || *end || end == s || n < 1 || n > 10000)
		usage_error("--workers: \"%s\" is not a number from 1 to 10000", s);
	return (int)n;
}

/* Options that set a default for the config (or quick mode's program),
 * by where they go in struct config_defaults. */
static const struct {
	int opt;
	size_t offset;
} default_options[] = {
    {OPT_READY, offsetof(struct config_defaults, ready)},
    {OPT_READY_DELAY, offsetof(struct config_defaults, ready_delay)},
    {OPT_READY_TIMEOUT, offsetof(struct config_defaults, ready_timeout)},
    {OPT_DRAIN_SIGNAL, offsetof(struct config_defaults, drain_signal)},
    {OPT_DRAIN_TIMEOUT, offsetof(struct config_defaults, drain_timeout)},
    {OPT_FD_PROTOCOL, offsetof(struct config_defaults, fd_protocol)},
    {OPT_PIDFILE, offsetof(struct config_defaults, pidfile)},
    {OPT_LOG_FORMAT, offsetof(struct config_defaults, log_format)},
    {'d', offsetof(struct config_defaults, directory)},
    {'s', offsetof(struct config_defaults, control)},
};

static bool set_default(struct options *o, int opt, const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(default_options); i++) {
		if (default_options[i].opt == opt) {
			*(const char **)((char *)&o->defs + default_options[i].offset) = arg;
			return true;
		}
	}
	return false;
}

static void __attribute__((noreturn)) print_and_exit(const char *text)
{
	exit(fputs(text, stdout) < 0 || fflush(stdout) != 0 ? EXIT_RUNTIME : 0);
}

static void __attribute__((noreturn)) print_version(void)
{
	char line[128];
	snprintf(line, sizeof(line), "segue %s\n", segue_version);
	print_and_exit(line);
}

/* The options an upgrade in place gives the next image (not for people). */
static void set_upgrade_option(struct options *o, int opt, const char *arg)
{
	char *end;
	if (opt == OPT_UPGRADE_FALLBACK) {
		o->fallback = arg;
	} else if (opt == OPT_UPGRADE_CHECK) {
		o->upgrade_check = (int)strtol(arg, &end, 10);
		if (*end || o->upgrade_check < 0)
			usage_error("--upgrade-check: \"%s\" is not a state format", arg);
	} else {
		o->state_fd = (int)strtol(arg, &end, 10);
		if (*end == ',')
			o->previous_fd = (int)strtol(end + 1, &end, 10);
		if (*end || o->state_fd < 3)
			usage_error("--state-fd: \"%s\" is not N,M", arg);
	}
}

static void parse_options(struct options *o, int argc, char **argv)
{
	int opt;
	while ((opt = getopt_long(argc, argv, "+c:tl:n:d:s:Vh", long_options, NULL)) != -1) {
		if (set_default(o, opt, optarg))
			continue;
		if (opt == 'c')
			o->config_file = optarg;
		else if (opt == 't')
			o->test = true;
		else if (opt == 'l')
			strv_push(&o->listen, xstrdup(optarg));
		else if (opt == 'n')
			o->defs.workers = parse_workers(optarg);
		else if (opt >= OPT_STATE_FD)
			set_upgrade_option(o, opt, optarg);
		else if (opt == 'V')
			print_version();
		else if (opt == 'h')
			print_and_exit(usage_text);
		else
			usage_error("unknown option");
	}
	o->argv = argv + optind;
	o->argc = (size_t)(argc - optind);
	if (o->listen.n > 0 && o->config_file)
		usage_error("-l (quick mode) and -c cannot be used together");
	if (o->listen.n == 0 && o->argc > 0)
		usage_error("a command (\"%s\") is only for quick mode: add -l ADDR", o->argv[0]);
	if (o->listen.n > 0 && o->argc == 0)
		usage_error("quick mode needs a command after --");
}

/* Descriptors 0-2 must be taken before any socket is opened, or a socket
 * could become a worker's stdin or stdout. */
static void ensure_std_fds(void)
{
	for (;;) {
		int fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			exit(EXIT_RUNTIME);
		if (fd > 2) {
			close(fd);
			return;
		}
	}
}

/* Each worker costs segue a descriptor or two (its notify socket, its
 * output pipe): 1,000 workers pass the usual soft limit of 1024, and
 * running out would leave control clients and workers unserved. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fprintf(stderr, "segue: raising the descriptor limit: %s\n", strerror(errno));
}

/* The directory a quick-mode worker starts in: the shell's logical $PWD
 * when it is where we are, so that a `current` symlink is followed anew at
 * each spawn. */
static char *starting_directory(void)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;
	if (pwd && *pwd == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return xstrdup(pwd);
	char *cwd = getcwd(NULL, 0);
	return cwd ? cwd : xstrdup("/");
}

static char control_socket[256];

static void pick_control_path(const struct config *c)
{
	if (c->control && *c->control)
		snprintf(control_socket, sizeof(control_socket), "%s", c->control);
	/* A path that does not fit is too long for a socket address as well:
	 * control_open refuses it, naming it, when it binds. */
	else
		(void)control_default_path(control_socket, sizeof(control_socket));
}

static struct config *load(struct options *o)
{
	if (o->listen.n > 0)
		return config_quick(o->listen.v, o->listen.n, o->argv, o->argc, &o->defs, stderr);
	if (!o->config_file)
		o->config_file = SYSCONFDIR "/segue.conf";
	return config_load(o->config_file, &o->defs, stderr);
}

/* Serves until a stop when status is 0, then takes everything down.
 * The status is then 0, or CRASHSTOP_EXIT when a crash loop stopped it. */
static int serve(int status)
{
	const struct config *c = model->config;
	char *pidfile = xstrdup(c && c->pidfile ? c->pidfile : "");
	bool served = status == 0;
	if (served) {
		ev_run(EV_DEFAULT, 0);
		status = crashstop_status();
	}
	core_teardown();
	control_close();
	admin_close();
	crashstop_stop();
	sinks_stop();
	systemd_stop();
	notify_dir_close();
	launch_cleanup();
	if (served && *pidfile && remove_pidfile(pidfile, getpid()) < 0)
		syswarn("removing pidfile %s", pidfile);
	free(pidfile);
	if (served)
		event_emit(status ? LEVEL_ERROR : LEVEL_INFO, "stopped",
			   json_pack("{s:i}", "status", status), "all workers are gone%s",
			   status ? "; exiting after a crash loop (exit-on-crash-loop)" : "");
	return status;
}

/* The modules that ask for a settle after their own callbacks. */
static void init_modules(const struct options *o)
{
	reload_init(o->config_file, &o->defs, core_settle);
	worker_init(core_settle);
	check_init(core_settle);
	watch_init(core_settle);
	steer_init(core_settle);
}

/* Runs the supervisor until it stops: 0 after a clean stop, 2 when it
 * could not start (the control socket, a socket to bind). */
static int run(struct config *config, const struct options *o, const char *directory)
{
	model_init(now_wall(), now_mono());
	launch_init(control_socket, directory);
	init_modules(o);
	systemd_start();
	sinks_start();
	crashstop_start();
	char err[512];
	int status = EXIT_RUNTIME;
	if (control_open(control_socket, config->control_mode, config->control_group, err,
			 sizeof(err)) < 0)
		event_emit(LEVEL_ERROR, "stopped", NULL, "control socket: %s", err);
	else if (admin_open(config, err, sizeof(err)) < 0)
		event_emit(LEVEL_ERROR, "stopped", NULL, "%s", err);
	else if (notify_dir_open_beside(control_socket, err, sizeof(err)) < 0)
		event_emit(LEVEL_ERROR, "stopped", NULL, "notify sockets: %s", err);
	else if (core_start(config, err, sizeof(err)) < 0)
		event_emit(LEVEL_ERROR, "stopped", NULL, "%s", err);
	else if (*config->pidfile && write_pidfile(config->pidfile, getpid()) < 0)
		event_emit(LEVEL_ERROR, "stopped", NULL, "pidfile %s: %s", config->pidfile,
			   strerror(errno));
	else
		status = 0;
	return serve(status);
}

/* The parts of the state an upgrade in place hands on, in the order the
 * next image restores them. */
static void register_state(void)
{
	state_register("upgrade", upgrade_save, upgrade_restore);
	state_register("model", model_save, model_restore);
	state_register("workers", worker_save, worker_restore);
	state_register("reload", reload_save, reload_restore);
	state_register_optional("watch", watch_save, watch_restore);
	state_register("control", control_save, control_restore);
	state_register_optional("admin", admin_save, admin_restore);
	state_register("systemd", systemd_save, systemd_restore);
}

/* This image was exec'ed by an upgrade in place (or back by a failed
 * one): it takes the state over, or hands it back to the previous image. */
static int adopt(struct options *o)
{
	struct config *quick = o->listen.n > 0 ? load(o) : NULL;
	char err[512] = "";
	model_init(0, 0);
	init_modules(o);
	upgrade_set_previous(o->previous_fd);
	int r = -1;
	if (segue_fail_adoption)
		snprintf(err, sizeof(err), "adoption refused: test build %s", segue_version);
	else
		r = state_read(o->state_fd, o->previous_fd, quick, &o->defs, err, sizeof(err));
	if (quick)
		config_unref(quick);
	if (r < 0) {
		if (!o->fallback) /* a fallback that fails too has nothing to go back to */
			upgrade_fall_back(o->state_fd, err);
		fprintf(stderr, "segue: cannot take over the state: %s\n", err);
		return EXIT_RUNTIME;
	}
	if (log_open(model->config->log_format, model->config->log_file) < 0)
		fprintf(stderr, "segue: %s\n", log_error());
	raise_fd_limit();
	char *directory = starting_directory();
	launch_init(control_path(), directory);
	free(directory);
	if (notify_dir_adopt(control_path()) < 0)
		syswarn("notify sockets beside %s", control_path());
	systemd_start();
	sinks_start();
	crashstop_start();
	core_adopt();
	state_done(o->state_fd);
	upgrade_forget_previous();
	upgrade_hold_image();
	upgrade_adopted(o->fallback);
	return serve(0);
}

/* The preflight of an upgrade: this binary says what it is, and whether
 * it reads the state format of the segue that asks. */
static int upgrade_check(int format)
{
	if (format < STATE_FORMAT_OLDEST || format > STATE_FORMAT) {
		fprintf(stderr, "segue %s reads state formats %d to %d, not %d\n", segue_version,
			STATE_FORMAT_OLDEST, STATE_FORMAT, format);
		return EXIT_USAGE;
	}
	printf("segue %s\nstate formats %d-%d\n", segue_version, STATE_FORMAT_OLDEST, STATE_FORMAT);
	return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	struct options o = {.state_fd = -1, .previous_fd = -1, .upgrade_check = -1};
	parse_options(&o, argc, argv);
	if (o.upgrade_check >= 0)
		return upgrade_check(o.upgrade_check);
	ensure_std_fds();
	upgrade_init(argc, argv);
	register_state();
	if (o.state_fd >= 0) {
		int status = adopt(&o);
		upgrade_cleanup();
		strv_free(&o.listen);
		return status;
	}
	upgrade_hold_image();
	/* From here a TERM or HUP waits for the loop to watch it: its default
	 * action would end segue, or drop the signal if segue is PID 1. */
	if (!o.test)
		core_hold_signals();
	struct config *config = load(&o);
	int status = EXIT_USAGE;
	if (config && o.test) {
		printf("%s: configuration OK\n", o.config_file ? o.config_file : "command line");
		status = 0;
	} else if (config && log_open(config->log_format, config->log_file) < 0) {
		fprintf(stderr, "segue: %s\n", log_error());
		status = EXIT_RUNTIME;
	} else if (config) {
		pick_control_path(config);
		raise_fd_limit();
		listen_take_inherited();
		char *directory = starting_directory();
		status = run(config, &o, directory);
		free(directory);
	}
	if (config)
		config_unref(config);
	upgrade_cleanup();
	strv_free(&o.listen);
	return status;
}
