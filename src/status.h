/* status.h: what the control socket reports: status, health and metrics. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_STATUS_H
#define SEGUE_STATUS_H

#include <jansson.h>

/* The `status` answer (new reference), as in SPEC's Control socket. */
json_t *status_json(void);

/* The `health` answer: {"ok":true} or ok false with "problems". */
json_t *health_json(void);

/* Prometheus text exposition; the caller frees it. */
char *metrics_text(void);

#endif
