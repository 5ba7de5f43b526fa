/* t/unit/config.c: unit tests for the config file and quick mode. */
/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf, open_memstream */
#endif
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Not "config.h": under automake, -I. finds autoconf's config.h first. */
#include "../../src/config.h"
#include "../../src/util.h"
#include "../../src/layout.h"
#include "../tap.h"

#define P "program app { command = \"x\" }\n"

static char fixtures[PATH_MAX + 16]; /* absolute $top_srcdir/t/conf */
static char topdir[PATH_MAX];	     /* absolute $top_srcdir */
static char tmpdir[] = "/tmp/segue-config-test.XXXXXX";

static char *fixture(const char *name)
{
	static char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(name);
		exit(2);
	}
}

/* Loads path; *errs gets what went to the errors stream. */
static struct config *load(const char *path, const struct config_defaults *d, char **errs)
{
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);
	struct config *c = config_load(path, d, f);

	fclose(f);
	return c;
}

static struct config *load_text(const char *text, const struct config_defaults *d, char **errs)
{
	write_file("segue.conf", text);
	return load("segue.conf", d, errs);
}

/* The text is refused with exactly the lines `want`. */
static void refused_with(const char *text, const struct config_defaults *d, const char *want,
			 const char *what)
{
	char *errs = NULL;
	struct config *c = load_text(text, d, &errs);

	ok(c == NULL, "%s: refused", what);
	is_string(want, errs, "%s: message", what);
	config_unref(c);
	free(errs);
}

static void refused(const char *text, const char *want, const char *what)
{
	refused_with(text, NULL, want, what);
}

/* The text loads without a word on the errors stream. */
static struct config *accepted(const char *text, const char *what)
{
	char *errs = NULL;
	struct config *c = load_text(text, NULL, &errs);

	ok(c != NULL, "%s: accepted", what);
	is_string("", errs, "%s: no message", what);
	free(errs);
	return c;
}

static void check_good_globals(const struct config *c)
{
	is_string("/tmp/segue-test/control.sock", c->control, "control");
	is_int(0660, c->control_mode, "control-mode");
	is_string("root", c->control_group, "control-group");
	is_string("/tmp/segue-test/segue.pid", c->pidfile, "pidfile");
	is_int(LOG_FORMAT_JSON, c->log_format, "log-format");
	is_string("/tmp/segue-test/segue.log", c->log_file, "log-file");
	is_string("127.0.0.1:8125", c->statsd, "statsd");
	is_string("/usr/local/bin/segue-hook", c->hook, "hook");
	ok(c->fdstore, "fdstore");
	ok(c->exit_on_crash_loop, "exit-on-crash-loop");
	is_int(1, c->refs, "refs starts at 1");
	ok(c->file != NULL && c->file[0] == '/', "file is absolute");
	ok(c->file != NULL && strcmp(c->file + strlen(c->file) - 9, "good.conf") == 0,
	   "file names good.conf");
}

static void check_good_sockets(const struct config *c)
{
	const struct socket_conf *s;
	char buf[128];

	is_int(3, c->nsockets, "three sockets");
	s = config_socket(c, "web");
	if (!ok(s != NULL, "socket web"))
		return;
	is_string("web", s->name, "web: name");
	is_string("127.0.0.1:8080", s->listen, "web: listen");
	is_int(ADDR_TCP, s->addr.kind, "web: address kind");
	format_address(&s->addr, buf, sizeof(buf));
	is_string("127.0.0.1:8080", buf, "web: address");
	is_int(511, s->backlog, "web: backlog");
	ok(s->reuseport, "web: reuseport");
	ok(s->v6only, "web: v6only");
	ok(s->nodelay, "web: nodelay");
	is_int(0600, s->mode, "web: mode");
	is_string("root", s->owner, "web: owner");
	is_string("root", s->group, "web: group");
	is_int(12, s->line, "web: line");
	s = config_socket(c, "admin");
	ok(s != NULL && s->addr.kind == ADDR_UNIX &&
	       strcmp(s->addr.path, "/tmp/segue-test/admin.sock") == 0,
	   "admin: unix path");
	ok(s != NULL && s->line == 23, "admin: line");
	s = config_socket(c, "any");
	ok(s != NULL && s->addr.kind == ADDR_TCP_ANY, "any: :PORT");
	ok(config_socket(c, "nope") == NULL, "no socket nope");
	is_string("web", c->sockets[0].name, "sockets in file order (0)");
	is_string("admin", c->sockets[1].name, "sockets in file order (1)");
	is_string("any", c->sockets[2].name, "sockets in file order (2)");
}

static void check_good_app_run(const struct program_conf *p)
{
	is_string("app", p->name, "app: name");
	is_string("bundle exec puma -C config/puma.rb", p->command, "app: command");
	is_string("/srv/app/current", p->directory, "app: directory");
	is_int(2, p->nsockets, "app: two sockets");
	is_string("web", p->sockets[0], "app: sockets[0]");
	is_string("admin", p->sockets[1], "app: sockets[1]");
	is_int(0, p->socket_index[0], "app: socket_index[0]");
	is_int(1, p->socket_index[1], "app: socket_index[1]");
	is_int(4, p->workers, "app: workers");
	is_string("root", p->user, "app: user");
	is_string("root", p->group, "app: group");
	is_int(3, p->nenv, "app: env count");
	is_string("RACK_ENV=production", p->env[0], "app: env[0]");
	is_string("EMPTY=", p->env[1], "app: env[1]");
	is_string("WITH_EQ=a=b", p->env[2], "app: env[2]");
	is_int(FD_PROTO_EINHORN | FD_PROTO_SERVER_STARTER, p->fd_protocols, "app: fd-protocol");
	is_int(31, p->line, "app: line");
}

static void check_good_app_ready(const struct program_conf *p)
{
	is_int(READY_EXEC, p->ready, "app: ready");
	is_double(2, p->ready_delay, "app: ready-delay");
	is_string("curl -fs http://127.0.0.1:8080/health", p->ready_command, "app: ready-command");
	is_double(120, p->ready_timeout, "app: ready-timeout");
	is_int(SIGQUIT, p->drain_signal, "app: drain-signal");
	is_double(45, p->drain_timeout, "app: drain-timeout");
	is_int(KILL_PROCESS, p->kill_mode, "app: kill-mode");
	is_int(RELOAD_ROLLING, p->reload, "app: reload");
	is_int(2, p->max_surge, "app: max-surge");
	is_double(0.25, p->restart_delay, "app: restart-delay");
	is_double(3600, p->restart_max_delay, "app: restart-max-delay");
	is_int(STDOUT_CAPTURE, p->stdout_mode, "app: stdout");
}

static void test_good(void)
{
	char *errs = NULL;
	struct config *c = load(fixture("good.conf"), NULL, &errs);
	const struct program_conf *p;

	if (!ok(c != NULL, "good.conf loads"))
		diag("%s", errs);
	is_string("", errs, "good.conf: no message");
	free(errs);
	if (c == NULL)
		return;
	check_good_globals(c);
	check_good_sockets(c);
	is_int(2, c->nprograms, "two programs");
	p = config_program(c, "app");
	if (ok(p != NULL, "program app")) {
		check_good_app_run(p);
		check_good_app_ready(p);
	}
	p = config_program(c, "worker");
	ok(p != NULL && p->ready == READY_NOTIFY, "worker: ready unquoted");
	ok(p != NULL && p->nsockets == 1 && p->socket_index[0] == 2,
	   "worker: socket any is index 2");
	ok(config_program(c, "nope") == NULL, "no program nope");
	ok(config_ref(c) == c && c->refs == 2, "config_ref");
	config_unref(c);
	is_int(1, c->refs, "config_unref");
	config_unref(c);
}

static void check_default_program(const struct program_conf *p)
{
	is_string("", p->directory, "default directory");
	is_int(1, p->workers, "default workers");
	is_string("", p->user, "default user");
	is_string("", p->group, "default group");
	is_int(0, p->nenv, "default env");
	is_int(0, p->fd_protocols, "default fd-protocol");
	is_int(READY_DELAY, p->ready, "default ready");
	is_double(1, p->ready_delay, "default ready-delay");
	is_string("", p->ready_command, "default ready-command");
	is_double(60, p->ready_timeout, "default ready-timeout");
	is_int(SIGTERM, p->drain_signal, "default drain-signal");
	is_double(30, p->drain_timeout, "default drain-timeout");
	is_int(KILL_GROUP, p->kill_mode, "default kill-mode");
	is_int(RELOAD_ALL_AT_ONCE, p->reload, "default reload");
	is_int(1, p->max_surge, "default max-surge");
	is_double(0.1, p->restart_delay, "default restart-delay");
	is_double(30, p->restart_max_delay, "default restart-max-delay");
	is_int(STDOUT_INHERIT, p->stdout_mode, "default stdout");
}

static void check_default_globals(const struct config *c)
{
	is_string("", c->control, "default control");
	is_int(0600, c->control_mode, "default control-mode");
	is_string("", c->control_group, "default control-group");
	is_string("", c->pidfile, "default pidfile");
	is_int(LOG_FORMAT_LOGFMT, c->log_format, "default log-format");
	is_string("", c->log_file, "default log-file");
	is_string("", c->statsd, "default statsd");
	is_string("", c->hook, "default hook");
	is_double(30, c->hook_timeout, "default hook-timeout");
	ok(!c->fdstore, "default fdstore");
	ok(!c->exit_on_crash_loop, "default exit-on-crash-loop");
}

static void test_defaults(void)
{
	struct config *c = accepted("socket s { listen = \"127.0.0.1:1\" }\n"
				    "program app { command = \"x\" }\n",
				    "minimal config");
	const struct socket_conf *s;

	if (c == NULL)
		return;
	check_default_globals(c);
	check_default_program(&c->programs[0]);
	is_int(0, c->programs[0].nsockets, "default sockets");
	s = &c->sockets[0];
	is_int(1024, s->backlog, "default backlog");
	ok(!s->reuseport, "default reuseport");
	ok(!s->v6only, "default v6only");
	ok(!s->nodelay, "default nodelay");
	is_int(0660, s->mode, "default mode");
	is_string("", s->owner, "default owner");
	is_string("", s->group, "default group");
	is_string("delay", ready_mode_name(READY_DELAY), "ready_mode_name delay");
	is_string("notify", ready_mode_name(READY_NOTIFY), "ready_mode_name notify");
	is_string("exec", ready_mode_name(READY_EXEC), "ready_mode_name exec");
	config_unref(c);
}

static void test_comments(void)
{
	char *errs = NULL, *want;
	struct config *c = load(fixture("comments.conf"), NULL, &errs);

	ok(c == NULL, "comments.conf: refused");
	if (asprintf(&want, "%s:18: program \"app\": unknown socket \"wbe\"\n",
		     fixture("comments.conf")) < 0)
		abort();
	is_string(want, errs, "comments.conf: error on the right line");
	free(want);
	free(errs);

	/* The same file, fixed, keeps every value that sits near a comment. */
	c = load(fixture("empty.conf"), NULL, &errs);
	ok(c == NULL, "a file of comments has no program");
	free(errs);
	c = accepted("socket web { # c\n listen = \"127.0.0.1:1\" // c\n"
		     "  backlog = /* c */ 128 }\n"
		     "program app {\n"
		     "  command = \"echo '#x' // y /* z */\"  # real comment\n"
		     "  directory = /srv//app // comment\n"
		     "  sockets = { # c\n \"web\" // c\n /* c */ }\n"
		     "  env = { \"A=#1\", 'B=//2' }\n}\n",
		     "comments next to values");
	if (c == NULL)
		return;
	is_int(128, c->sockets[0].backlog, "value after /* */");
	is_string("echo '#x' // y /* z */", c->programs[0].command,
		  "comment markers inside a string stay");
	is_string("/srv//app", c->programs[0].directory, "unquoted // inside a word stays");
	ok(c->programs[0].nsockets == 1, "list with comments inside");
	ok(c->programs[0].nenv == 2 && strcmp(c->programs[0].env[0], "A=#1") == 0 &&
	       strcmp(c->programs[0].env[1], "B=//2") == 0,
	   "markers in quoted list items stay");
	config_unref(c);
}

static void test_comment_lines(void)
{
	refused("# 1\n# 2\n// 3\n/* 4\n 5 */\n" P "socket s {\n  lisen = 1\n"
		"  listen = \":1\"\n}\n",
		"segue.conf:8: unknown key \"lisen\" in socket \"s\"\n",
		"line after # // /* */ comments");
	refused("/* a */ /* b */ # c\n" P "program b {\n command = \"y\"\n"
		" workers = 0 # zero\n}\n",
		"segue.conf:5: program \"b\": workers: must be at least 1\n",
		"line after several comments on one line");
	refused(P "program b {\n command = \"multi\n line\n string\"\n"
		  " ready = \"soon\"\n}\n",
		"segue.conf:6: program \"b\": ready: bad value \"soon\" "
		"(notify, delay or exec)\n",
		"line after a multi-line string");
	refused(P "program b {\n command = \"y\"\n"
		  " fd-protocol = { // c\n \"einhorn\", # c\n /* c\n c */\n"
		  " \"bogus\" }\n}\n",
		"segue.conf:8: program \"b\": fd-protocol: bad value \"bogus\" "
		"(einhorn or server-starter)\n",
		"list item line inside a commented list");
	refused("socket web {\n listen = \"127.0.0.1:1\"\n}\n"
		"program a {\n command = x\n sockets = {\n \"web\",\n \"web\"\n }\n}\n",
		"segue.conf:8: program \"a\": socket \"web\" listed twice\n",
		"socket listed twice: line of the second");
}

static void test_syntax(void)
{
	refused(P "socket web {\n  listen = \":80\"\n", "segue.conf:2: \"{\" is never closed\n",
		"unclosed section");
	refused(P "program b {\n command = x\n env = { \"A=1\"\n",
		"segue.conf:4: \"{\" is never closed\n", "unclosed list");
	refused(P "hook = \"abc\n\n", "segue.conf:2: string is never closed\n", "unclosed string");
	refused(P "# x\n/* never\nclosed\n", "segue.conf:3: \"/*\" comment is never closed\n",
		"unclosed comment");
	refused("\n" P "}\n", "segue.conf:3: unexpected closing brace\n", "stray brace");
	refused("# c\ncontrol = = \"x\"\n" P, "segue.conf:2: unexpected token '='\n",
		"libconfuse syntax error");
	refused(P "socket web {\n backlog = lots\n}\n",
		"segue.conf:3: socket \"web\": backlog: not an integer\n", "not an integer");
	refused(P "socket web {\n reuseport = maybe\n}\n",
		"segue.conf:3: socket \"web\": reuseport: not a boolean "
		"(true or false)\n",
		"not a boolean");
	refused(P "program b { command = x workers = 99999999999999999999 }\n",
		"segue.conf:2: program \"b\": workers: number out of range\n", "integer overflow");
	refused(P "control =\n\n\n", "segue.conf:2: unexpected end of file\n",
		"end of file after =");
	refused(P "socket web {\n listen = \":1\"\n backlog =\n}\n",
		"segue.conf:5: socket \"web\": unexpected token '}'\n", "missing value");
	refused(P "fdstore = yes please\n", "segue.conf:2: unknown key \"please\"\n", "two values");
	refused(P "socket = \"x\"\n", "segue.conf:2: missing title for section 'socket'\n",
		"section used as a key");
	refused(P "a b {\n c d { e f { g h { i j { k l { m n { o p { q r {\n",
		"segue.conf:2: unknown section \"a\"\n"
		"segue.conf:3: sections nested too deeply\n",
		"deep nesting");
	refused(P "include(\"other.conf\")\n", "segue.conf:2: unknown key \"include\"\n",
		"functions");
}

static void test_binary(void)
{
	static const char text[] = P "\n\0x";
	FILE *f = fopen("nul.conf", "w");
	char *errs = NULL;
	struct config *c;

	if (f == NULL || fwrite(text, 1, sizeof(text) - 1, f) != sizeof(text) - 1 || fclose(f) != 0)
		abort();
	c = load("nul.conf", NULL, &errs);
	ok(c == NULL, "NUL byte: refused");
	is_string("nul.conf:3: NUL byte: not a text file\n", errs, "NUL byte: message");
	free(errs);
	config_unref(c);
}

static void test_unknown(void)
{
	refused(P "contrl = \"/x\"\n", "segue.conf:2: unknown key \"contrl\"\n",
		"unknown global key");
	refused(P "socket web {\n  lisen = \"x\"\n  listen = \":1\"\n}\n",
		"segue.conf:3: unknown key \"lisen\" in socket \"web\"\n", "unknown socket key");
	refused("program app {\n command = x\n workers = 2\n backlog = 5\n}\n",
		"segue.conf:4: unknown key \"backlog\" in program \"app\"\n",
		"socket key in a program");
	refused(P "sockt web {\n listen = \":1\"\n}\n", "segue.conf:2: unknown section \"sockt\"\n",
		"unknown section");
	refused("program app {\n command = x\n socket s { listen = \":1\" }\n}\n",
		"segue.conf:3: unknown section \"socket\" in program \"app\"\n", "nested section");
	refused(P "socket web {\n listen = \":1\"\n}\nsocket web {\n listen = \":2\"\n}\n",
		"segue.conf:5: duplicate socket \"web\" (first on line 2)\n", "duplicate socket");
	refused(P "program app {\n command = y\n}\n",
		"segue.conf:2: duplicate program \"app\" (first on line 1)\n", "duplicate program");
	refused(P "a = 1\nsocket web { b = { 1, 2 } listen = \":1\" c = x }\n"
		  "zz y { d = 1 }\ncontrol = \"/ok\"\n",
		"segue.conf:2: unknown key \"a\"\n"
		"segue.conf:3: unknown key \"b\" in socket \"web\"\n"
		"segue.conf:3: unknown key \"c\" in socket \"web\"\n"
		"segue.conf:4: unknown section \"zz\"\n",
		"every unknown key is reported");
}

static void test_addresses(void)
{
	refused(P "socket web {\n listen = \"127.0.0.1:99999\"\n}\n",
		"segue.conf:3: socket \"web\": listen: bad address "
		"\"127.0.0.1:99999\": port out of range\n",
		"port out of range");
	refused(P "socket web {\n listen = \"example.com:80\"\n}\n",
		"segue.conf:3: socket \"web\": listen: bad address "
		"\"example.com:80\": host is not a numeric IPv4 address\n",
		"host name");
	refused(P "socket web {\n backlog = 5\n}\n",
		"segue.conf:2: socket \"web\": listen is required\n", "missing listen");
	refused(P "socket a { listen = \":8080\" }\nsocket b {\n listen = \"*:8080\"\n}\n",
		"segue.conf:4: socket \"b\": listen \"*:8080\" is already used by "
		"socket \"a\"\n",
		"two sockets on one address");
	refused(P "socket a { listen = \"unix:/tmp/a\" }\n"
		  "socket b { listen = \"unix:/tmp/a\" }\n",
		"segue.conf:3: socket \"b\": listen \"unix:/tmp/a\" is already used "
		"by socket \"a\"\n",
		"two sockets on one path");
	config_unref(accepted(P "socket a { listen = \"127.0.0.1:0\" }\n"
				"socket b { listen = \"127.0.0.1:0\" }\n",
			      "port 0 twice is fine"));
	refused(P "socket web {\n listen = \":1\"\n mode = \"0999\"\n}\n",
		"segue.conf:4: socket \"web\": mode: bad mode \"0999\" (octal, up to "
		"7777)\n",
		"bad socket mode");
	refused(P "control-mode = \"rw\"\n",
		"segue.conf:2: control-mode: bad mode \"rw\" (octal, up to 7777)\n",
		"bad control-mode");
	refused(P "socket web {\n listen = \":1\"\n backlog = 0\n}\n",
		"segue.conf:4: socket \"web\": backlog: must be at least 1\n", "backlog 0");
	refused("socket \"a:b\" {\n listen = \":1\"\n}\n" P,
		"segue.conf:1: socket \"a:b\": name may hold only letters, digits, "
		"\"_\", \".\" and \"-\"\n",
		"socket name with a colon");
}

static void test_statsd(void)
{
	refused(P "statsd = \"nope\"\n",
		"segue.conf:2: statsd: bad address \"nope\": missing port "
		"(HOST:PORT)\n",
		"statsd without port");
	refused(P "statsd = \"unix:/x\"\n",
		"segue.conf:2: statsd: bad address \"unix:/x\": must be HOST:PORT\n",
		"statsd unix");
	refused(P "statsd = \":8125\"\n",
		"segue.conf:2: statsd: bad address \":8125\": must be HOST:PORT\n", "statsd any");
	refused(P "statsd = \"127.0.0.1:0\"\n",
		"segue.conf:2: statsd: bad address \"127.0.0.1:0\": port 0\n", "statsd port 0");
	config_unref(accepted(P "statsd = \"localhost:8125\"\n", "statsd localhost"));
	config_unref(accepted(P "statsd = \"[::1]:8125\"\n", "statsd v6"));
}

/* hook-timeout: a global duration above 0 (issue 9, item 14). */
static void test_hook_timeout(void)
{
	struct config *c;

	refused(P "hook-timeout = 0\n", "segue.conf:2: hook-timeout: must be more than 0\n",
		"hook-timeout 0");
	refused(P "\nhook-timeout = soon\n", "segue.conf:3: hook-timeout: bad duration \"soon\"\n",
		"hook-timeout not a duration");
	c = accepted(P "hook-timeout = 1500ms\n", "hook-timeout 1500ms");
	is_double(1.5, c ? c->hook_timeout : 0, "hook-timeout is 1.5 s");
	config_unref(c);
}

static void test_program_values(void)
{
	refused("program app {\n command = x\n ready-delay = \"5x\"\n}\n",
		"segue.conf:3: program \"app\": ready-delay: bad duration \"5x\"\n",
		"bad duration");
	refused("program app {\n command = x\n drain-signal = \"TREM\"\n}\n",
		"segue.conf:3: program \"app\": drain-signal: bad signal \"TREM\"\n", "bad signal");
	refused("program app {\n command = x\n reload = \"slow\"\n}\n",
		"segue.conf:3: program \"app\": reload: bad value \"slow\" "
		"(all-at-once or rolling)\n",
		"bad reload");
	refused("program app {\n command = x\n stdout = \"null\"\n}\n",
		"segue.conf:3: program \"app\": stdout: bad value \"null\" "
		"(inherit or capture)\n",
		"bad stdout");
	refused(P "log-format = \"xml\"\n",
		"segue.conf:2: log-format: bad value \"xml\" (logfmt or json)\n", "bad log-format");
	refused("program app {\n command = x\n workers = 0\n}\n",
		"segue.conf:3: program \"app\": workers: must be at least 1\n", "workers 0");
	refused("program app {\n command = x\n workers = 100000\n}\n",
		"segue.conf:3: program \"app\": workers: must be at most 10000\n",
		"too many workers");
	refused("program app {\n command = x\n max-surge = 0\n}\n",
		"segue.conf:3: program \"app\": max-surge: must be at least 1\n", "max-surge 0");
	refused("program app {\n command = x\n ready-timeout = 0\n}\n",
		"segue.conf:3: program \"app\": ready-timeout: must be more than 0\n",
		"ready-timeout 0");
	refused("program app {\n workers = 2\n}\n",
		"segue.conf:1: program \"app\": command is required\n", "missing command");
	refused("program app {\n workers = 2\n command = \"  \"\n}\n",
		"segue.conf:3: program \"app\": command is required\n", "blank command");
	refused("program app {\n command = x\n ready = exec\n}\n",
		"segue.conf:3: program \"app\": ready = \"exec\" needs a "
		"ready-command\n",
		"exec without ready-command");
	refused("program app {\n command = x\n restart-delay = 10s\n"
		" restart-max-delay = 5s\n}\n",
		"segue.conf:4: program \"app\": restart-max-delay must not be less "
		"than restart-delay\n",
		"restart-max-delay below restart-delay");
	refused("program app {\n command = x\n restart-delay = 1m\n}\n",
		"segue.conf:1: program \"app\": restart-max-delay must not be less "
		"than restart-delay\n",
		"restart-delay above the default max");
}

/* canary-weight (issue 14): a steered canary's share of new connections;
 * a steered socket needs it for a canary, a shared one cannot have it. */
static void test_canary_weight(void)
{
	static const char steer[] =
	    "socket web {\n listen = \"127.0.0.1:1\"\n handover = steer\n}\n";
	char *text = xasprintf("%sprogram app {\n command = x\n sockets = { web }\n canary = 1\n"
			       " canary-weight = \"25%%\"\n}\n",
			       steer);
	struct config *c = accepted(text, "a steered canary with canary-weight");
	if (c) {
		is_int(25, c->programs[0].canary_weight, "canary-weight = \"25%%\"");
		config_unref(c);
	}
	free(text);
	c = accepted("program app {\n command = x\n}\n", "no canary-weight");
	if (c) {
		is_int(0, c->programs[0].canary_weight, "canary-weight: none by default");
		config_unref(c);
	}
	refused("socket web {\n listen = \"127.0.0.1:1\"\n}\n"
		"program app {\n command = x\n sockets = { web }\n canary = 1\n"
		" canary-weight = \"25%\"\n}\n",
		"segue.conf:6: program \"app\": canary-weight needs handover = \"steer\" on socket "
		"\"web\" (a shared socket cannot steer a share of connections: every worker "
		"accepts from it)\n",
		"canary-weight on a shared socket");
}

/* Deploy keys with bad values, and what the error says. */
static const struct {
	const char *line, *want;
} bad_deploy[] = {
    {"canary = \"0%\"", "canary: bad share \"0%\" (1% to 100%)"},
    {"canary = \"101%\"", "canary: bad share \"101%\" (1% to 100%)"},
    {"canary = \"-1\"", "canary: bad value \"-1\" (a number of workers, or a share like \"25%\")"},
    {"canary = \"2 workers\"",
     "canary: bad value \"2 workers\" (a number of workers, or a share like \"25%\")"},
    {"check-interval = 10ms", "check-interval: must be at least 100ms"},
    {"check-timeout = 0", "check-timeout: must be more than 0"},
    {"check-failures = 0", "check-failures: must be at least 1"},
    {"watch = soon", "watch: bad duration \"soon\""},
    {"check-always = true", "check-always needs a check"},
    {"canary-weight = \"10%\"", "canary-weight needs a canary"},
    {"canary-weight = \"0%\"", "canary-weight: bad share \"0%\" (1% to 100%)"},
    {"canary-weight = \"101%\"", "canary-weight: bad share \"101%\" (1% to 100%)"},
    {"canary-weight = 10",
     "canary-weight: bad value \"10\" (a share of new connections like \"10%\")"},
    {"canary-weight = \"-5%\"",
     "canary-weight: bad value \"-5%\" (a share of new connections like \"10%\")"},
};

/* Deploy safety (issue 11): release, canary as a count or a share, the
 * check's keys and watch, with their defaults. */
static void test_deploy_keys(void)
{
	struct config *c = accepted("program app {\n command = x\n}\n", "deploy defaults");
	if (c) {
		const struct program_conf *p = &c->programs[0];
		is_string("", p->release, "release: none by default (the directory's basename)");
		is_int(0, p->canary + p->canary_percent, "no canary by default");
		is_int(30000, (long long)(p->canary_hold * 1000), "canary-hold 30s by default");
		is_string("", p->check, "no check by default");
		is_int(5000, (long long)(p->check_interval * 1000), "check-interval 5s");
		is_int(5000, (long long)(p->check_timeout * 1000), "check-timeout 5s");
		is_int(3, p->check_failures, "check-failures 3");
		is_int(0, p->check_always, "check-always false");
		is_int(0, (long long)(p->watch * 1000), "no watch by default");
		config_unref(c);
	}
	c = accepted("program app {\n command = x\n canary = \"25%\"\n watch = 10s\n"
		     " release = \"v-{directory}\"\n check = \"true\"\n check-always = true\n}\n",
		     "deploy keys");
	if (c) {
		is_int(25, c->programs[0].canary_percent, "canary = \"25%%\" is a share");
		is_int(10000, (long long)(c->programs[0].watch * 1000), "watch = 10s");
		is_string("v-{directory}", c->programs[0].release, "release as written");
		config_unref(c);
	}
	c = accepted("program app {\n command = x\n canary = 2\n}\n", "canary = 2");
	if (c) {
		is_int(2, c->programs[0].canary, "canary = 2 is a count");
		config_unref(c);
	}
	refused("socket web {\n listen = \"127.0.0.1:1\"\n handover = steer\n}\n"
		"program app {\n command = x\n sockets = { web }\n canary = 1\n}\n",
		"segue.conf:7: program \"app\": socket \"web\" has handover = \"steer\", which "
		"cannot carry a canary without canary-weight (it would get no connection): set "
		"canary-weight = \"10%\", or use handover = \"shared\"\n",
		"a canary on a steered socket needs canary-weight");
	for (size_t i = 0; i < sizeof(bad_deploy) / sizeof(bad_deploy[0]); i++) {
		char *text = xasprintf("program app {\n command = x\n %s\n}\n", bad_deploy[i].line);
		char *want = xasprintf("segue.conf:3: program \"app\": %s\n", bad_deploy[i].want);
		refused(text, want, bad_deploy[i].line);
		free(text);
		free(want);
	}
}

/* restart-delay has a floor: 0 would respawn a crashing worker hundreds of
 * times a second (issue 9). */
static void test_restart_floor(void)
{
	struct config *c;

	refused("program app {\n command = x\n restart-delay = \"0\"\n}\n",
		"segue.conf:3: program \"app\": restart-delay: must be at least "
		"10ms\n",
		"restart-delay 0");
	refused("program app {\n command = x\n\n restart-delay = 9ms\n}\n",
		"segue.conf:4: program \"app\": restart-delay: must be at least "
		"10ms\n",
		"restart-delay 9ms");
	refused("program app {\n command = x\n restart-max-delay = 0.001\n}\n",
		"segue.conf:3: program \"app\": restart-max-delay: must be at "
		"least 10ms\n",
		"restart-max-delay below the floor");
	c = accepted("program app {\n command = x\n restart-delay = 10ms\n"
		     " restart-max-delay = 10ms\n}\n",
		     "restart-delay at the floor");
	if (c != NULL)
		is_double(0.01, c->programs[0].restart_delay, "restart-delay 10ms kept");
	config_unref(c);
}

/* A path of n bytes: "/tmp/" and then x's. */
static char *long_path(size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		abort();
	memcpy(p, "/tmp/", 5);
	memset(p + 5, 'x', n - 5);
	p[n] = '\0';
	return p;
}

/* sun_path holds 107 bytes and a NUL: a longer control or unix: path would
 * overflow it (issue 9). */
static void test_path_limits(void)
{
	char *fits = long_path(107), *over = long_path(108), *text, *want;
	struct config *c;

	if (asprintf(&text, "control = \"%s\"\nsocket s { listen = \"unix:%s\" }\n" P, fits, fits) <
	    0)
		abort();
	c = accepted(text, "control and unix: paths of 107 bytes");
	config_unref(c);
	free(text);
	if (asprintf(&text, "\ncontrol = \"%s\"\nsocket s {\n listen = \"unix:%s\"\n}\n" P, over,
		     over) < 0 ||
	    asprintf(&want,
		     "segue.conf:2: control: bad path \"%s\": unix socket path "
		     "too long (at most 107 bytes)\n"
		     "segue.conf:4: socket \"s\": listen: bad address \"unix:%s\": "
		     "unix socket path too long (at most 107 bytes)\n",
		     over, over) < 0)
		abort();
	refused(text, want, "control and unix: paths of 108 bytes");
	free(text);
	free(want);
	free(fits);
	free(over);
}

static void test_nodelay(void)
{
	struct config *c;

	c = accepted(P "socket a { listen = \"127.0.0.1:1\" nodelay = true }\n"
		       "socket b { listen = \"[::1]:2\" nodelay = yes }\n"
		       "socket c { listen = \":3\" nodelay = false }\n",
		     "nodelay on TCP sockets");
	if (c != NULL) {
		ok(config_socket(c, "a")->nodelay, "nodelay true");
		ok(config_socket(c, "b")->nodelay, "nodelay yes");
		ok(!config_socket(c, "c")->nodelay, "nodelay false");
	}
	config_unref(c);
	/* As v6only: no meaning there, accepted and kept. */
	c = accepted(P "socket u { listen = \"unix:/tmp/u.sock\" nodelay = on }\n"
		       "socket s { listen = \"systemd:web\" nodelay = true }\n",
		     "nodelay on unix and systemd sockets");
	if (c != NULL)
		ok(config_socket(c, "u")->nodelay && config_socket(c, "s")->nodelay,
		   "nodelay kept on unix and systemd sockets");
	config_unref(c);
	refused(P "socket web {\n listen = \":1\"\n nodelay = \"fast\"\n}\n",
		"segue.conf:4: socket \"web\": nodelay: not a boolean "
		"(true or false)\n",
		"bad nodelay");
	refused("program app {\n command = x\n nodelay = true\n}\n",
		"segue.conf:3: unknown key \"nodelay\" in program \"app\"\n",
		"nodelay in a program");
}

static void test_kill_mode(void)
{
	struct config *c;

	c = accepted("program a {\n command = x\n kill-mode = \"group\"\n}\n"
		     "program b {\n command = x\n kill-mode = \"process\"\n}\n"
		     "program c {\n command = x\n kill-mode = process\n}\n"
		     "program d {\n command = x\n}\n",
		     "kill-mode values");
	if (c != NULL) {
		is_int(KILL_GROUP, config_program(c, "a")->kill_mode, "kill-mode group");
		is_int(KILL_PROCESS, config_program(c, "b")->kill_mode, "kill-mode process");
		is_int(KILL_PROCESS, config_program(c, "c")->kill_mode,
		       "kill-mode process unquoted");
		is_int(KILL_GROUP, config_program(c, "d")->kill_mode,
		       "kill-mode defaults to group");
	}
	config_unref(c);
	refused("program app {\n command = x\n drain-timeout = 5s\n"
		" kill-mode = \"pgrp\"\n}\n",
		"segue.conf:4: program \"app\": kill-mode: bad value \"pgrp\" "
		"(group or process)\n",
		"bad kill-mode");
	refused("program app {\n command = x\n kill-mode = Process\n}\n",
		"segue.conf:3: program \"app\": kill-mode: bad value \"Process\" "
		"(group or process)\n",
		"kill-mode is case-sensitive");
	refused("program app {\n command = x\n kill-mode = \"\"\n}\n",
		"segue.conf:3: program \"app\": kill-mode: bad value \"\" "
		"(group or process)\n",
		"empty kill-mode");
	refused(P "socket web {\n listen = \":1\"\n kill-mode = group\n}\n",
		"segue.conf:4: unknown key \"kill-mode\" in socket \"web\"\n",
		"kill-mode in a socket");
}

static void test_program_refs(void)
{
	refused("socket web { listen = \":1\" }\n\n\n\n\n\n\n\n\n\n"
		"program app {\n sockets = { \"wbe\" }\n command = x\n}\n",
		"segue.conf:12: program \"app\": unknown socket \"wbe\"\n", "unknown socket");
	refused("program app {\n command = x\n user = \"no-such-user-xyz\"\n"
		" group = \"no-such-group-xyz\"\n}\n",
		"segue.conf:3: program \"app\": user: unknown user \"no-such-user-xyz\"\n"
		"segue.conf:4: program \"app\": group: unknown group "
		"\"no-such-group-xyz\"\n",
		"unknown user and group");
	refused(P "socket s {\n listen = \"unix:/tmp/s\"\n owner = \"nouser-q\"\n"
		  " group = \"nogroup-q\"\n}\n",
		"segue.conf:4: socket \"s\": owner: unknown user \"nouser-q\"\n"
		"segue.conf:5: socket \"s\": group: unknown group \"nogroup-q\"\n",
		"unknown socket owner and group");
	refused(P "control-group = \"nogroup-q\"\n",
		"segue.conf:2: control-group: unknown group \"nogroup-q\"\n",
		"unknown control-group");
	refused("program app {\n command = x\n env = { \"OK=1\", \"FOO\",\n"
		" \"=x\", \"1A=x\",\n \"A-B=x\", \"_Z9=\" }\n}\n",
		"segue.conf:3: program \"app\": env: bad entry \"FOO\" (KEY=VALUE)\n"
		"segue.conf:4: program \"app\": env: bad entry \"=x\" (KEY=VALUE)\n"
		"segue.conf:4: program \"app\": env: bad entry \"1A=x\" (KEY=VALUE)\n"
		"segue.conf:5: program \"app\": env: bad entry \"A-B=x\" (KEY=VALUE)\n",
		"bad env entries");
	refused("program \"a b\" {\n command = x\n}\n",
		"segue.conf:1: program \"a b\": name may hold only letters, digits, "
		"\"_\", \".\" and \"-\"\n",
		"program name with a space");
	refused("program \"\" {\n command = x\n}\n",
		"segue.conf:1: program \"\": name may hold only letters, digits, "
		"\"_\", \".\" and \"-\"\n",
		"empty program name");
	refused("control = \"/x\"\n", "segue.conf:1: no program defined\n", "no program");
	refused("", "segue.conf:1: no program defined\n", "empty file");
}

static void test_many_problems(void)
{
	refused("socket web {\n listen = \"1.2.3.4\"\n}\n"
		"program app {\n command = x\n sockets = { \"web\", \"db\" }\n"
		" ready-delay = soon\n drain-signal = NOPE\n workers = -1\n}\n"
		"statsd = \"x\"\n",
		"segue.conf:2: socket \"web\": listen: bad address \"1.2.3.4\": "
		"missing port (HOST:PORT)\n"
		"segue.conf:6: program \"app\": unknown socket \"db\"\n"
		"segue.conf:7: program \"app\": ready-delay: bad duration \"soon\"\n"
		"segue.conf:8: program \"app\": drain-signal: bad signal \"NOPE\"\n"
		"segue.conf:9: program \"app\": workers: must be at least 1\n"
		"segue.conf:11: statsd: bad address \"x\": missing port (HOST:PORT)\n",
		"every problem, in line order");
	{
		char *errs = NULL;
		struct config *c = load("no-such-dir/segue.conf", NULL, &errs);

		ok(c == NULL, "missing file: refused");
		is_string("no-such-dir/segue.conf: cannot open: No such file or "
			  "directory\n",
			  errs, "missing file: message");
		free(errs);
	}
}

static void test_limits(void)
{
	char *text = malloc(200 * 16 + sizeof(P)), *p = text, *errs = NULL;
	struct config *c;
	int i;

	if (text == NULL)
		abort();
	p += sprintf(p, "%s", P);
	for (i = 0; i < 150; i++)
		p += sprintf(p, "x%d = 1\n", i);
	c = load_text(text, NULL, &errs);
	ok(c == NULL, "150 problems: refused");
	ok(errs != NULL && strstr(errs, "segue.conf:101: unknown key \"x99\"\n"
					"segue.conf: 50 more problems not shown\n"),
	   "150 problems: the first 100 are shown");
	free(errs);
	free(text);
	text = malloc((1 << 20) + 1);
	if (text == NULL)
		abort();
	memset(text, ' ', 1 << 20);
	text[1 << 20] = '\0';
	c = load_text(text, NULL, &errs);
	ok(c == NULL, "1 MiB file: refused");
	is_string("segue.conf: file too large\n", errs, "1 MiB file: message");
	free(errs);
	free(text);
}

static void test_lists(void)
{
	struct config *c =
	    accepted("socket a { listen = \":1\" }\nsocket b { listen = \":2\" }\n"
		     "program app {\n command = x\n sockets = \"a\"\n sockets += { \"b\" }\n"
		     " env = { }\n fd-protocol = \"einhorn\"\n}\n",
		     "lists: single value and +=");

	if (c == NULL)
		return;
	ok(c->programs[0].nsockets == 2 && c->programs[0].socket_index[0] == 0 &&
	       c->programs[0].socket_index[1] == 1,
	   "sockets = \"a\" then += { \"b\" }");
	is_int(FD_PROTO_EINHORN, c->programs[0].fd_protocols, "single protocol");
	config_unref(c);
}

static void test_defs_values(void)
{
	struct config_defaults d = {
	    .directory = "/d",
	    .workers = 3,
	    .ready = "notify",
	    .ready_delay = "5s",
	    .ready_timeout = "10s",
	    .drain_signal = "INT",
	    .drain_timeout = "7s",
	    .fd_protocol = "einhorn,server-starter",
	    .control = "/c.sock",
	    .pidfile = "/p.pid",
	    .log_format = "json",
	};
	char *errs = NULL;
	struct config *c =
	    load_text("control = \"/file.sock\"\npidfile = \"/file.pid\"\n"
		      "log-format = logfmt\n"
		      "program a { command = x }\n"
		      "program b {\n command = y\n directory = \"/b\"\n workers = 2\n"
		      " ready = delay\n ready-delay = 1s\n ready-timeout = 2s\n"
		      " drain-signal = HUP\n drain-timeout = 3s\n fd-protocol = { }\n}\n",
		      &d, &errs);
	const struct program_conf *a, *b;

	if (!ok(c != NULL, "defaults: loads"))
		diag("%s", errs);
	free(errs);
	if (c == NULL)
		return;
	is_string("/c.sock", c->control, "--control wins over the file");
	is_string("/p.pid", c->pidfile, "--pidfile wins over the file");
	is_int(LOG_FORMAT_JSON, c->log_format, "--log-format wins over the file");
	a = config_program(c, "a");
	b = config_program(c, "b");
	ok(a && !strcmp(a->directory, "/d") && a->workers == 3 && a->ready == READY_NOTIFY &&
	       a->ready_delay == 5 && a->ready_timeout == 10 && a->drain_signal == SIGINT &&
	       a->drain_timeout == 7 && a->fd_protocols == 3,
	   "command-line values are the defaults of unset keys");
	ok(b && !strcmp(b->directory, "/b") && b->workers == 2 && b->ready == READY_DELAY &&
	       b->ready_delay == 1 && b->ready_timeout == 2 && b->drain_signal == SIGHUP &&
	       b->drain_timeout == 3 && b->fd_protocols == 0,
	   "keys set in the file win over the command line");
	config_unref(c);
}

static void test_defs_errors(void)
{
	static const struct {
		const char *what;
		struct config_defaults d;
		const char *want;
	} cases[] = {
	    {"bad .ready_delay = \"x\"",
	     {.ready_delay = "x"},
	     "command line: --ready-delay: bad duration \"x\"\n"},
	    {"bad .ready_timeout = \"0\"",
	     {.ready_timeout = "0"},
	     "command line: --ready-timeout: must be more than 0\n"},
	    {"bad .drain_timeout = \"-1s\"",
	     {.drain_timeout = "-1s"},
	     "command line: --drain-timeout: bad duration \"-1s\"\n"},
	    {"bad .drain_signal = \"NOPE\"",
	     {.drain_signal = "NOPE"},
	     "command line: --drain-signal: bad signal \"NOPE\"\n"},
	    {"bad .ready = \"fast\"",
	     {.ready = "fast"},
	     "command line: --ready: bad value \"fast\" "
	     "(notify, delay or exec)\n"},
	    {"bad .fd_protocol = \"einhorn,zmq\"",
	     {.fd_protocol = "einhorn,zmq"},
	     "command line: --fd-protocol: bad value \"zmq\" "
	     "(einhorn or server-starter)\n"},
	    {"bad .log_format = \"xml\"",
	     {.log_format = "xml"},
	     "command line: --log-format: bad value \"xml\" (logfmt or json)\n"},
	    {"bad .workers = -2",
	     {.workers = -2},
	     "command line: --workers: must be between 1 and 10000\n"},
	    {"bad .ready = \"x\", .ready_delay = \"y\"",
	     {.ready = "x", .ready_delay = "y"},
	     "command line: --ready: bad value \"x\" (notify, delay or exec)\n"
	     "command line: --ready-delay: bad duration \"y\"\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused_with(P, &cases[i].d, cases[i].want, cases[i].what);
}

static struct config *quick(char *const listen[], size_t nlisten, char *const argv[], size_t argc,
			    const struct config_defaults *d, char **errs)
{
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);
	struct config *c = config_quick(listen, nlisten, argv, argc, d, f);

	fclose(f);
	return c;
}

/* Runs command the way segue does, /bin/sh -c 'exec COMMAND'. */
static char *run_shell(const char *command)
{
	char *cmd, *out = NULL;
	size_t len = 0, n;
	char buf[256];
	FILE *p, *o = open_memstream(&out, &len);

	if (asprintf(&cmd, "exec %s", command) < 0 || (p = popen(cmd, "r")) == NULL)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, o);
	pclose(p);
	fclose(o);
	free(cmd);
	return out;
}

static void round_trip(char *const argv[], size_t argc, const char *want, const char *what)
{
	char *listen[] = {"127.0.0.1:0"}, *errs = NULL, *out;
	struct config *c = quick(listen, 1, argv, argc, NULL, &errs);

	is_string("", errs, "%s: no message", what);
	free(errs);
	if (!ok(c != NULL, "%s: quick config", what))
		return;
	out = run_shell(c->programs[0].command);
	if (!is_string(want, out, "%s: argv survives the shell", what))
		diag("command: %s", c->programs[0].command);
	free(out);
	config_unref(c);
}

static void test_quick_quoting(void)
{
	char *sh[] = {"sh", "-c", "echo 'a b'"};
	char *pf[] = {"printf",
		      "[%s]",
		      "a b",
		      "it's",
		      "",
		      "$HOME",
		      "*",
		      "\\n",
		      "\"q\"",
		      "a\nb",
		      "~",
		      "#x",
		      "{fd:web}",
		      ";",
		      "&&",
		      "x=1",
		      "'",
		      "''",
		      "plain-word_1.2,3:4@5%6+7/8"};
	char *listen[] = {"127.0.0.1:0"}, *errs = NULL;
	char *simple[] = {"/usr/bin/app", "--port", "8080"};
	struct config *c;

	round_trip(sh, 3, "a b\n", "sh -c \"echo 'a b'\"");
	round_trip(pf, sizeof(pf) / sizeof(pf[0]),
		   "[a b][it's][][$HOME][*][\\n][\"q\"][a\nb][~][#x][{fd:web}]"
		   "[;][&&][x=1]['][''][plain-word_1.2,3:4@5%6+7/8]",
		   "printf with shell metacharacters");
	c = quick(listen, 1, simple, 3, NULL, &errs);
	ok(c && strcmp(c->programs[0].command, "/usr/bin/app --port 8080") == 0,
	   "plain words are not quoted");
	free(errs);
	config_unref(c);
}

static void test_quick_sockets(void)
{
	char *listen[] = {"127.0.0.1:0", "admin=unix:/tmp/x.sock", ":8080", "unix:/tmp/a=b.sock"};
	char *argv[] = {"app"};
	char *errs = NULL;
	struct config *c = quick(listen, 4, argv, 1, NULL, &errs);
	const struct program_conf *p;

	is_string("", errs, "quick: no message");
	free(errs);
	if (!ok(c != NULL, "quick: config"))
		return;
	ok(c->file == NULL, "quick: no file");
	is_int(4, c->nsockets, "quick: four sockets");
	is_string("listen0", c->sockets[0].name, "quick: first unnamed is listen0");
	is_string("admin", c->sockets[1].name, "quick: NAME=ADDR");
	is_string("unix:/tmp/x.sock", c->sockets[1].listen, "quick: named listen");
	is_string("listen1", c->sockets[2].name, "quick: second unnamed is listen1");
	is_string("listen2", c->sockets[3].name, "quick: a path with = is no name");
	is_string("unix:/tmp/a=b.sock", c->sockets[3].listen, "quick: path with =");
	p = config_program(c, "app");
	ok(p && p->nsockets == 4 && !strcmp(p->sockets[0], "listen0") &&
	       !strcmp(p->sockets[1], "admin") && p->socket_index[2] == 2 &&
	       p->socket_index[3] == 3,
	   "quick: program app holds every socket in order");
	ok(p && !strcmp(p->command, "app"), "quick: command");
	if (p)
		check_default_program(p);
	check_default_globals(c);
	config_unref(c);
}

static void test_quick_defaults(void)
{
	struct config_defaults d = {
	    .directory = "/srv",
	    .workers = 2,
	    .ready = "exec",
	    .drain_signal = "USR2",
	    .fd_protocol = "server-starter",
	    .control = "/c.sock",
	    .pidfile = "/p",
	    .log_format = "json",
	};
	char *listen[] = {":1"}, *argv[] = {"app"}, *errs = NULL;
	struct config *c = quick(listen, 1, argv, 1, &d, &errs);

	is_string("command line: program \"app\": ready = \"exec\" needs a "
		  "ready-command\n",
		  errs, "quick: --ready exec cannot work without a ready-command");
	ok(c == NULL, "quick: refused");
	free(errs);
	d.ready = "notify";
	c = quick(listen, 1, argv, 1, &d, &errs);
	is_string("", errs, "quick with options: no message");
	free(errs);
	if (!ok(c != NULL, "quick with options: config"))
		return;
	ok(!strcmp(c->programs[0].directory, "/srv") && c->programs[0].workers == 2 &&
	       c->programs[0].ready == READY_NOTIFY && c->programs[0].drain_signal == SIGUSR2 &&
	       c->programs[0].fd_protocols == FD_PROTO_SERVER_STARTER,
	   "quick: program keys from the command line");
	ok(!strcmp(c->control, "/c.sock") && !strcmp(c->pidfile, "/p") &&
	       c->log_format == LOG_FORMAT_JSON,
	   "quick: global keys from the command line");
	config_unref(c);
}

static void quick_refused(char *const listen[], size_t nlisten, char *const argv[], size_t argc,
			  const char *want, const char *what)
{
	char *errs = NULL;
	struct config *c = quick(listen, nlisten, argv, argc, NULL, &errs);

	ok(c == NULL, "%s: refused", what);
	is_string(want, errs, "%s: message", what);
	free(errs);
	config_unref(c);
}

static void test_quick_errors(void)
{
	char *argv[] = {"app"}, *empty[] = {""};
	char *one[] = {":8080"}, *bad[] = {"nope"};
	char *twice[] = {"a=:1", "a=:2"}, *same[] = {":1", "*:1"};
	char *clash[] = {"listen0=:1", ":2"};
	struct config_defaults d = {.ready_delay = "later"};
	char *errs = NULL;

	quick_refused(NULL, 0, argv, 1, "command line: quick mode needs at least one --listen\n",
		      "quick: no --listen");
	quick_refused(one, 1, NULL, 0, "command line: no command given (put it after --)\n",
		      "quick: no command");
	quick_refused(NULL, 0, NULL, 0,
		      "command line: quick mode needs at least one --listen\n"
		      "command line: no command given (put it after --)\n",
		      "quick: neither");
	quick_refused(one, 1, empty, 1, "command line: the command name is empty\n",
		      "quick: empty command name");
	quick_refused(bad, 1, argv, 1,
		      "command line: socket \"listen0\": listen: bad address "
		      "\"nope\": missing port (HOST:PORT)\n",
		      "quick: bad address");
	quick_refused(twice, 2, argv, 1, "command line: --listen: socket name \"a\" given twice\n",
		      "quick: one name twice");
	quick_refused(clash, 2, argv, 1,
		      "command line: --listen: socket name \"listen0\" given twice\n",
		      "quick: a given name clashes with a numbered one");
	quick_refused(same, 2, argv, 1,
		      "command line: socket \"listen1\": listen \"*:1\" is already "
		      "used by socket \"listen0\"\n",
		      "quick: one address twice");
	ok(quick(one, 1, argv, 1, &d, &errs) == NULL, "quick: bad option refused");
	is_string("command line: --ready-delay: bad duration \"later\"\n", errs,
		  "quick: bad option message");
	free(errs);
}

/* The same limits on the command line: --control and --listen unix:. */
static void test_quick_paths(void)
{
	char *over = long_path(108), *want, *errs = NULL, *listen[1];
	char *argv[] = {"app"}, *one[] = {":1"};
	struct config_defaults d = {.control = over};

	if (asprintf(&want,
		     "command line: --control: bad path \"%s\": unix socket "
		     "path too long (at most 107 bytes)\n",
		     over) < 0)
		abort();
	refused_with(P, &d, want, "--control of 108 bytes with a file");
	ok(quick(one, 1, argv, 1, &d, &errs) == NULL, "quick: --control of 108 bytes refused");
	is_string(want, errs, "quick: --control of 108 bytes: message");
	free(errs);
	free(want);
	if (asprintf(&listen[0], "unix:%s", over) < 0 ||
	    asprintf(&want,
		     "command line: socket \"listen0\": listen: bad address "
		     "\"%s\": unix socket path too long (at most 107 bytes)\n",
		     listen[0]) < 0)
		abort();
	quick_refused(listen, 1, argv, 1, want, "quick: --listen unix: of 108 bytes");
	free(listen[0]);
	free(want);
	free(over);
}

/* ---- the layout scanner, directly ---- */

/* Scans text (len bytes, or strlen when len is 0) into *lay. */
static int scan(const char *text, size_t len, struct layout *lay)
{
	return layout_scan(text, len ? len : strlen(text), lay);
}

static void test_layout_comments(void)
{
	struct layout lay;

	ok(scan("a = 1 # c\nb = 2 // d\n/* e\n f */ c = \"#x//y/*z*/\"\r\n", 0, &lay) == 0,
	   "layout: comments scan");
	is_string("a = 1    \nb = 2     \n    \n      c = \"#x//y/*z*/\"\r\n", lay.text,
		  "layout: comments blanked, newlines and strings kept");
	is_int(3, (int)lay.nnodes, "layout: three keys");
	ok(lay.nnodes == 3 && lay.nodes[2].line == 4 && !strcmp(lay.nodes[2].name, "c"),
	   "layout: the key after a two-line comment is on line 4");
	is_int(4, lay.last_line, "layout: last line");
	layout_free(&lay);
	ok(scan("d = /srv//app\ne = 'it\\'s' // c\n", 0, &lay) == 0 && lay.nitems == 2,
	   "layout: // inside a word is no comment");
	ok(lay.nitems == 2 && lay.items[0].len == 9 &&
	       !memcmp(lay.text + lay.items[0].begin, "/srv//app", 9),
	   "layout: the word keeps its //");
	layout_free(&lay);
	ok(scan("a = 1\n\n  # only a comment\n\n", 0, &lay) == 0 && lay.last_line == 1,
	   "layout: trailing comments and blanks do not count as content");
	layout_free(&lay);
}

static void test_layout_nodes(void)
{
	struct layout lay;
	const struct layout_node *n;
	int web;

	ok(scan("socket web {\n listen = \":1\"\n}\nprogram app {\n sockets = { \"web\",\n"
		" \"adm\" }\n sockets += \"web\"\n nested x { k = v }\n f(1, 2)\n}\n",
		0, &lay) == 0,
	   "layout: sections scan");
	web = layout_section(&lay, -1, "socket", "web");
	ok(web == 0 && lay.nodes[0].kind == LAYOUT_SECTION && lay.nodes[0].line == 1,
	   "layout: socket web is node 0, line 1");
	n = layout_key(&lay, web, "listen");
	ok(n != NULL && n->line == 2 && n->parent == web && n->nitems == 1,
	   "layout: listen in web");
	ok(layout_key(&lay, -1, "listen") == NULL, "layout: listen is not a global key");
	n = &lay.nodes[2];
	ok(n->kind == LAYOUT_SECTION && !strcmp(n->title, "app") && n->after == lay.nnodes,
	   "layout: program app holds every node after it");
	n = layout_key(&lay, 2, "sockets");
	ok(n != NULL && n->kind == LAYOUT_APPEND && n->line == 7, "layout: the last sockets is +=");
	is_int(5, layout_item_line(&lay, 2, "sockets", "web", 0), "layout: first \"web\" item");
	is_int(6, layout_item_line(&lay, 2, "sockets", "adm", 0), "layout: \"adm\" item");
	is_int(7, layout_item_line(&lay, 2, "sockets", "web", 1), "layout: second \"web\" item");
	is_int(7, layout_item_line(&lay, 2, "sockets", "nope", 0),
	       "layout: an unknown item falls back to the key's line");
	is_int(0, layout_item_line(&lay, 2, "env", "x", 0), "layout: no such key: 0");
	ok(layout_section(&lay, 2, "nested", "x") == 5 && lay.nodes[6].parent == 5,
	   "layout: a nested section and its key");
	ok(lay.nodes[7].kind == LAYOUT_CALL && lay.nodes[7].line == 9 &&
	       lay.text[lay.nodes[7].end - 1] == ')',
	   "layout: a function call spans to its \")\"");
	layout_free(&lay);
}

static void test_layout_reset(void)
{
	struct layout lay;

	scan("p x {\n e += \"a\"\n e = { \"b\" }\n e += \"a\"\n}\np x { e = \"z\" }\n", 0, &lay);
	is_int(4, layout_item_line(&lay, 0, "e", "a", 0), "layout: \"=\" drops earlier items");
	is_int(0, layout_section(&lay, -1, "p", "x"), "layout: the first of two sections");
	is_int(6, (int)lay.nodes[5].line, "layout: the second one is recorded too");
	layout_blank(&lay, lay.nodes[0].begin, lay.nodes[0].end);
	is_string("     \n         \n            \n         \n \np x { e = \"z\" }\n", lay.text,
		  "layout_blank keeps newlines");
	layout_free(&lay);
	scan("t { a = 1 }\n", 0, &lay);
	ok(lay.nnodes == 2 && lay.nodes[0].title == NULL && lay.nodes[1].parent == 0,
	   "layout: a section without a title");
	layout_free(&lay);
}

/* The text cannot be parsed: `why` on line `line`. */
static void scan_fails(const char *text, size_t len, const char *why, int line, const char *what)
{
	struct layout lay;

	ok(scan(text, len, &lay) == -1, "layout: %s: refused", what);
	is_string(why, lay.error, "layout: %s: why", what);
	is_int(line, lay.error_line, "layout: %s: line", what);
	layout_free(&lay);
}

/* Problems before the point where the scan broke off come first. */
static void test_broken_order(void)
{
	refused("a = 1 b = \"x\n",
		"segue.conf:1: unknown key \"a\"\n"
		"segue.conf:1: unknown key \"b\"\n"
		"segue.conf:1: string is never closed\n",
		"unknown keys, then a broken string");
	refused("zz y { q {\n",
		"segue.conf:1: unknown section \"zz\"\n"
		"segue.conf:1: \"{\" is never closed\n",
		"unknown section, then an unclosed one");
}

static void test_layout_errors(void)
{
	struct layout lay;

	scan_fails("a = 1\n\nb\0c", 9, "NUL byte: not a text file", 3, "NUL byte");
	scan_fails("a = 1\n/* x\n", 0, "\"/*\" comment is never closed", 2, "unclosed comment");
	scan_fails("a = 1\nb = \"x\n\n", 0, "string is never closed", 2, "unclosed string");
	scan_fails("s x {\n a = { 1,\n", 0, "\"{\" is never closed", 2, "unclosed list");
	scan_fails("s x\n{\n a = 1\n", 0, "\"{\" is never closed", 2, "unclosed section");
	scan_fails("a{b{c{d{e{f{g{h{\ni{", 0, "sections nested too deeply", 2, "deep nesting");
	ok(scan("a = 1\nb = { \"x\"", 0, &lay) == -1 && lay.nnodes == 1,
	   "layout: a broken statement is not recorded, the ones before are");
	layout_free(&lay);
	ok(scan("a{b{c{d{e{f{g{h{}}}}}}}}", 0, &lay) == 0 && lay.nnodes == 8,
	   "layout: eight levels are fine");
	layout_free(&lay);
	ok(scan("f(x)", 0, &lay) == 0 && lay.nnodes == 1 && lay.nodes[0].kind == LAYOUT_CALL &&
	       lay.nodes[0].end == 4,
	   "layout: a call as the first node");
	layout_free(&lay);
	ok(scan("", 0, &lay) == 0 && lay.nnodes == 0 && lay.text[0] == '\0', "layout: empty text");
	layout_free(&lay);
	ok(scan("}}} = , ( ) +x \"a\" 'b'", 0, &lay) == 0,
	   "layout: stray tokens are libconfuse's to refuse");
	layout_free(&lay);
}

static void test_example(void)
{
	char path[2 * PATH_MAX], *errs = NULL;
	struct config *c;

	snprintf(path, sizeof(path), "%s/etc/segue.conf", topdir);
	c = load(path, NULL, &errs);
	if (!ok(c != NULL, "etc/segue.conf loads"))
		diag("%s", errs);
	is_string("", errs, "etc/segue.conf: no message");
	free(errs);
	if (c == NULL)
		return;
	ok(c->nprograms >= 1 && c->nsockets >= 1, "etc/segue.conf: a socket and a program");
	ok(config_socket(c, "web") && !strcmp(config_socket(c, "web")->listen, "127.0.0.1:8080"),
	   "etc/segue.conf: web listens on 127.0.0.1:8080");
	config_unref(c);
}

static void setup(void)
{
	const char *top = getenv("top_srcdir");

	if (realpath(top != NULL && *top != '\0' ? top : ".", topdir) == NULL) {
		perror("top_srcdir");
		exit(2);
	}
	snprintf(fixtures, sizeof(fixtures), "%s/t/conf", topdir);
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0) {
		perror(tmpdir);
		exit(2);
	}
}

static void cleanup(void)
{
	unlink("segue.conf");
	unlink("nul.conf");
	if (chdir("/") != 0 || rmdir(tmpdir) != 0)
		diag("cannot remove %s", tmpdir);
}

int main(void)
{
	plan_lazy();
	setup();
	test_good();
	test_defaults();
	test_comments();
	test_comment_lines();
	test_syntax();
	test_binary();
	test_unknown();
	test_addresses();
	test_statsd();
	test_program_values();
	test_hook_timeout();
	test_restart_floor();
	test_deploy_keys();
	test_canary_weight();
	test_path_limits();
	test_nodelay();
	test_kill_mode();
	test_program_refs();
	test_many_problems();
	test_lists();
	test_limits();
	test_defs_values();
	test_defs_errors();
	test_quick_quoting();
	test_quick_sockets();
	test_quick_defaults();
	test_quick_errors();
	test_quick_paths();
	test_example();
	test_layout_comments();
	test_layout_nodes();
	test_layout_reset();
	test_layout_errors();
	test_broken_order();
	cleanup();
	return tap_done();
}
