/* tap.c: a tiny TAP producer for the C unit tests. */
/* SPDX-License-Identifier: MIT */
#include "tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int planned = -1;
static int run;
static int failed;
static bool lazy;

void plan(int n)
{
	planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void plan_lazy(void)
{
	lazy = true;
}

static bool __attribute__((format(printf, 2, 0))) report(bool pass, const char *fmt, va_list ap)
{
	run++;
	if (!pass)
		failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", run);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return pass;
}

bool ok(bool pass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	return pass;
}

bool is_int(long long want, long long got, const char *fmt, ...)
{
	va_list ap;
	bool pass = want == got;
	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("wanted %lld, got %lld", want, got);
	return pass;
}

bool is_double(double want, double got, const char *fmt, ...)
{
	va_list ap;
	bool pass = fabs(want - got) < 1e-9;
	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("wanted %g, got %g", want, got);
	return pass;
}

bool is_string(const char *want, const char *got, const char *fmt, ...)
{
	va_list ap;
	bool pass = (want == NULL || got == NULL) ? want == got : strcmp(want, got) == 0;
	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("wanted \"%s\", got \"%s\"", want ? want : "(null)", got ? got : "(null)");
	return pass;
}

void diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

int tap_done(void)
{
	if (lazy)
		printf("1..%d\n", run);
	else if (planned != run)
		diag("planned %d tests but ran %d", planned, run);
	fflush(stdout);
	return (failed == 0 && (lazy || planned == run)) ? 0 : 1;
}
