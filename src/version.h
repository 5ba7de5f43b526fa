/* version.h: the version this segue image reports. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_VERSION_H
#define SEGUE_VERSION_H

/* PACKAGE_VERSION, with a suffix in test builds ("0.1.0+next"): an
 * upgrade in place must be seen to change the running version. */
extern const char segue_version[];

/* Test builds only: adoption of an upgrade's state fails on purpose. */
extern const int segue_fail_adoption;

#endif
