#!/bin/sh
# accepting.sh PID FD: a readiness probe for event-loop servers (asyncio,
# libuv, ...): exits 0 once process PID watches the socket it inherited
# as descriptor FD in an epoll set, that is, once it accepts on it. With
# handover = "steer" new connections go to the new generation's own
# socket: it must really accept when segue calls it ready.
# SPDX-License-Identifier: MIT
pid=$1 fd=$2
ino=$(stat -L -c %i "/proc/$pid/fd/$fd" 2>/dev/null) || exit 1
ino=$(printf '%x' "$ino")
# epoll's fdinfo lists each watched file: "tfd: N events: E data: D pos:0 ino:HEX sdev:S"
grep -qs "^tfd:.* ino:$ino " /proc/"$pid"/fdinfo/*
