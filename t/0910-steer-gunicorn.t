#!/bin/sh
# 0910-steer-gunicorn.t: gunicorn (Debian 12: 20.1), which loses nothing with
# a shared socket, still loses nothing with handover = "steer". The test of
# t/0500-gunicorn.t with 20 reloads under load, new connections and keep-alive.
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
# SPDX-License-Identifier: MIT
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
SEGUE_TEST_HANDOVER=${SEGUE_TEST_HANDOVER:-steer}
. "$top_srcdir/t/0500-gunicorn.t"
