/* launch.c: what a worker is started with: its directory, user, command
 * line, descriptors and environment (SPEC "Worker environment"). */
/* SPDX-License-Identifier: MIT */
#include "launch.h"
#include "env.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char *control_path;
static char *default_directory;

void launch_init(const char *control, const char *directory)
{
	launch_cleanup();
	control_path = xstrdup(control ? control : "");
	default_directory = directory ? xstrdup(directory) : NULL;
}

void launch_cleanup(void)
{
	free(control_path);
	free(default_directory);
	control_path = default_directory = NULL;
}

int launch_resolve(struct launch *l, struct program_run *p, char *err, size_t len)
{
	memset(l, 0, sizeof(*l));
	l->spec.output_fd = -1;
	if (!p->pinned) {
		const char *dir = *p->conf->directory ? p->conf->directory : default_directory;
		char *real = dir ? realpath(dir, NULL) : NULL;
		if (dir && !real) {
			snprintf(err, len, "directory %s: %s", dir, strerror(errno));
			return -1;
		}
		model_program_set_directory(p, real, false);
		free(real);
	}
	l->spec.directory = p->directory;
	/* A segue killed by SIGKILL or the OOM killer cannot drain its
	 * workers: the kernel sends them the drain signal instead. */
	l->spec.death_signal = p->conf->drain_signal;
	return spawn_lookup_ids(p->conf->user, p->conf->group, &l->spec, &l->groups, err, len);
}

static char *join(char *const *parts, size_t n, const char *sep)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + strlen(sep);
	char *s = xcalloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, sep);
		strcat(s, parts[i]);
	}
	return s;
}

static void add_server_starter(struct strv *env, const struct program_run *p)
{
	const struct program_conf *c = p->conf;
	struct strv parts = {0};
	for (size_t i = 0; i < c->nsockets; i++) {
		const struct address *a = &p->gen->sockets[c->socket_index[i]]->conf.addr;
		char addr[300];
		if (a->kind == ADDR_UNIX)
			snprintf(addr, sizeof(addr), "%s", a->path);
		else
			format_address(a, addr, sizeof(addr));
		/* Server::Starter writes a bare port for "every address". */
		strv_push(&parts, xasprintf("%s=%d", addr[0] == ':' ? addr + 1 : addr, 3 + (int)i));
	}
	char *joined = join(parts.v, parts.n, ";");
	env_add(env, "SERVER_STARTER_PORT", "%s", joined);
	env_add(env, "SERVER_STARTER_GENERATION", "%u", p->gen->number);
	free(joined);
	strv_free(&parts);
}

static void add_fd_protocols(struct strv *env, const struct program_run *p, int slot)
{
	const struct program_conf *c = p->conf;
	if (c->fd_protocols & FD_PROTO_EINHORN) {
		env_add(env, "EINHORN_FD_COUNT", "%zu", c->nsockets);
		for (size_t i = 0; i < c->nsockets; i++)
			strv_push(env, xasprintf("EINHORN_FD_%zu=%d", i, 3 + (int)i));
		env_add(env, "EINHORN_CHILD_INDEX", "%d", slot);
	}
	if (c->fd_protocols & FD_PROTO_SERVER_STARTER)
		add_server_starter(env, p);
}

static void add_segue_vars(struct strv *env, const struct program_run *p, int slot)
{
	env_add(env, "SEGUE_PROGRAM", "%s", p->conf->name);
	env_add(env, "SEGUE_GENERATION", "%u", p->gen->number);
	if (slot >= 0)
		env_add(env, "SEGUE_WORKER", "%d", slot);
	if (p->release && *p->release)
		env_add(env, "SEGUE_RELEASE", "%s", p->release);
	env_add(env, "SEGUE_CONTROL", "%s", control_path ? control_path : "");
}

void launch_build(struct launch *l, const struct program_run *p, int slot, const char *notify_path)
{
	const struct program_conf *c = p->conf;
	l->fds = xcalloc(c->nsockets ? c->nsockets : 1, sizeof(int));
	for (size_t i = 0; i < c->nsockets; i++)
		l->fds[i] = p->gen->sockets[c->socket_index[i]]->fd;
	l->spec.fds = l->fds;
	l->spec.nfds = c->nsockets;
	env_base(&l->env, c->env, c->nenv);
	env_add(&l->env, "LISTEN_FDS", "%zu", c->nsockets);
	char *names = join(c->sockets, c->nsockets, ":");
	env_add(&l->env, "LISTEN_FDNAMES", "%s", names);
	free(names);
	/* The child writes its own pid into the room after "LISTEN_PID=". */
	char *pid_entry = xcalloc(1, sizeof("LISTEN_PID=") + SPAWN_PID_ROOM);
	strcpy(pid_entry, "LISTEN_PID=");
	strv_push(&l->env, pid_entry);
	l->spec.listen_pid_slot = pid_entry + strlen("LISTEN_PID=");
	add_segue_vars(&l->env, p, slot);
	env_add(&l->env, "NOTIFY_SOCKET", "%s", notify_path);
	add_fd_protocols(&l->env, p, slot);
	l->spec.env = l->env.v;
	l->command = launch_expand(c->command, p, slot);
	l->spec.command = l->command;
}

void launch_free(struct launch *l)
{
	strv_free(&l->env);
	free(l->command);
	free(l->groups);
	free(l->fds);
	memset(l, 0, sizeof(*l));
}

void launch_helper_env(struct strv *env, const struct program_run *p, int slot, pid_t pid)
{
	env_base(env, p->conf->env, p->conf->nenv);
	add_segue_vars(env, p, slot);
	env_add(env, "SEGUE_WORKER_PID", "%d", (int)pid);
}

void launch_check_env(struct strv *env, const struct program_run *p)
{
	env_base(env, p->conf->env, p->conf->nenv);
	add_segue_vars(env, p, -1);
	char *pids = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&pids, &len);
	if (!f)
		abort();
	for (int i = 0; i < p->nslots; i++)
		if (p->slots[i]->worker && p->slots[i]->worker->pid > 0)
			fprintf(f, "%s%d", ftell(f) ? " " : "", (int)p->slots[i]->worker->pid);
	if (fclose(f) != 0)
		abort();
	env_add(env, "SEGUE_PIDS", "%s", pids);
	free(pids);
}

static int socket_position(const struct program_conf *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->nsockets; i++)
		if (strlen(c->sockets[i]) == len && strncmp(c->sockets[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* The port a held socket listens on, from the kernel (also for inherited
 * and port-0 sockets); -1 for a unix socket. */
static int held_port(const struct held_socket *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/* Writes the value of the placeholder at s (up to close) to f; false when
 * it names nothing segue knows. */
static bool expand_one(FILE *f, const char *s, const char *close, const struct program_run *p,
		       int slot)
{
	const struct program_conf *c = p->conf;
	bool fd = strncmp(s, "{fd:", 4) == 0, port = strncmp(s, "{port:", 6) == 0;
	if ((fd && slot >= 0) || port) { /* a check holds no descriptor */
		const char *name = s + (fd ? 4 : 6);
		int pos = socket_position(c, name, (size_t)(close - name)), n = -1;
		if (pos >= 0)
			n = fd ? 3 + pos : held_port(p->gen->sockets[c->socket_index[pos]]);
		return n >= 0 && fprintf(f, "%d", n) > 0;
	}
	if (strncmp(s, "{generation}", 12) == 0)
		return fprintf(f, "%u", p->gen->number) > 0;
	if (strncmp(s, "{worker}", 8) == 0 && slot >= 0)
		return fprintf(f, "%d", slot) > 0;
	/* No {release}: a release names a directory anybody who deploys
	 * chose, and this text is a shell line ("$SEGUE_RELEASE" is safe). */
	return false;
}

char *launch_expand(const char *text, const struct program_run *p, int slot)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (!f)
		abort();
	for (const char *s = text; *s;) {
		const char *close = *s == '{' ? strchr(s, '}') : NULL;
		if (close && expand_one(f, s, close, p, slot)) {
			s = close + 1;
			continue;
		}
		putc(*s++, f);
	}
	if (fclose(f) != 0)
		abort();
	return out;
}
