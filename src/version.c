/* version.c: the version this segue image reports; linked into segue
 * alone (not libsegue.a), so that a test build can differ in it. */
/* SPDX-License-Identifier: MIT */
#include "version.h"

#ifndef VERSION_SUFFIX
#define VERSION_SUFFIX ""
#endif
#ifndef FAIL_ADOPTION
#define FAIL_ADOPTION 0
#endif

const char segue_version[] = PACKAGE_VERSION VERSION_SUFFIX;
const int segue_fail_adoption = FAIL_ADOPTION;
