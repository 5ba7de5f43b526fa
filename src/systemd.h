/* systemd.h: what segue tells systemd (READY, RELOADING, STOPPING,
 * STATUS, WATCHDOG), decided from the event stream. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_SYSTEMD_H
#define SEGUE_SYSTEMD_H

#include <jansson.h>
#include <stddef.h>

/* Subscribes to events and starts the watchdog timer when systemd asked
 * for one (WATCHDOG_USEC). Without NOTIFY_SOCKET every send is a no-op. */
void systemd_start(void);
void systemd_stop(void);

/* One line for `systemctl status`: what serves, how the last reload went. */
void systemd_status_line(char *buf, size_t len);

/* Across an upgrade in place (state.h): whether READY=1 was sent. */
json_t *systemd_save(void);
int systemd_restore(json_t *part, char *err, size_t len);

#endif
