#!/bin/sh
# 0915-steer-puma.t: puma (Debian 12: 5.6), which loses nothing with a
# shared socket, still loses nothing with handover = "steer". The test of
# t/0510-puma.t with 20 reloads under load, new connections and keep-alive.
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
# SPDX-License-Identifier: MIT
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
SEGUE_TEST_HANDOVER=${SEGUE_TEST_HANDOVER:-steer}
. "$top_srcdir/t/0510-puma.t"
