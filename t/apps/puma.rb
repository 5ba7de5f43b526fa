# puma.rb: puma 5.6 settings for running under segue (t/0510-puma.t and
# doc/recipes.md).
# SPDX-License-Identifier: MIT

# Serve the sockets segue passes (LISTEN_FDS/LISTEN_PID) and bind nothing
# else: without this puma closes them ("Closing unused activated socket")
# and binds tcp://0.0.0.0:9292 itself.
bind_to_activated_sockets "only"

# puma 5.6's graceful stop closes connections it has accepted but whose
# request it has not read yet (its reactor times them out at shutdown): the
# client sees its connection closed with no answer. Without the reactor, a
# thread reads the request of every accepted connection and answers it.
queue_requests false

# While stopping, never go on accepting from the shared socket: the new
# generation is serving it (this is puma's default; said for clarity).
drain_on_shutdown false

threads 4, 4

# Readiness for segue's ready = "exec": puma's control server listens on the
# abstract unix socket @puma-PID once the app is loaded, just before the
# server starts. It is named after this process, so the probe checks this
# worker, not the shared port (which the old generation still answers):
#   ready-command = "grep -q \\" @puma-$SEGUE_WORKER_PID$\\" /proc/net/unix"
# (An abstract socket leaves no file behind when a worker is killed.)
activate_control_app "unix://@puma-#{Process.pid}", no_token: true
