/* tap.h: a tiny TAP producer for the C unit tests. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_TAP_H
#define SEGUE_TAP_H

#include <stdbool.h>

void plan(int n);
void plan_lazy(void); /* print "1..N" at exit, counting the tests run */
bool ok(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_int(long long want, long long got, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool is_double(double want, double got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool is_string(const char *want, const char *got, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip_all(const char *why) __attribute__((noreturn));
/* Exit status: 0 when every test passed and the plan was met. */
int tap_done(void);

#endif
