/* env.c: the one environment builder for every child segue starts
 * (workers, ready-commands, hooks), with the reserved-variable filter. */
/* SPDX-License-Identifier: MIT */
#include "env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

bool env_reserved(const char *entry)
{
	static const char *const names[] = {
	    "LISTEN_FDS=",   "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",  "WATCHDOG_USEC=",
	    "WATCHDOG_PID=", "SEGUE_",	    "EINHORN_",	       "SERVER_STARTER_",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

static bool overridden(const char *entry, char *const *overrides, size_t n)
{
	size_t keylen = strcspn(entry, "=");
	for (size_t i = 0; i < n; i++)
		if (strncmp(entry, overrides[i], keylen + 1) == 0)
			return true;
	return false;
}

void env_base(struct strv *env, char *const *overrides, size_t noverrides)
{
	for (char **e = environ; *e; e++)
		if (!env_reserved(*e) && !overridden(*e, overrides, noverrides))
			strv_push(env, xstrdup(*e));
	for (size_t i = 0; i < noverrides; i++)
		if (!env_reserved(overrides[i]))
			strv_push(env, xstrdup(overrides[i]));
}

void env_add(struct strv *env, const char *key, const char *fmt, ...)
{
	char *value;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* as xasprintf: no half-built environment */
	strv_push(env, xasprintf("%s=%s", key, value));
	free(value);
}
