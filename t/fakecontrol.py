#!/usr/bin/env python3
# fakecontrol.py: a stand-in for segue's control socket that plays a
# scripted reload, for seguectl's tests of events segue may send before it
# sends them itself (canary, watch, auto_rollback, release).
# SPDX-License-Identifier: MIT
#
# usage: fakecontrol.py SOCKET SCRIPT GATES
# `events` gets its acknowledgement and then every scripted event;
# `status` answers one program, app, 2 workers, generation 1; `reload wait`
# (or `rollback wait`) plays SCRIPT, one JSON object a line:
#   {"gate": "NAME"}    waits until the file GATES/NAME exists
#   {"event": {...}}    sends the event (ts and level added) to every events client
#   {"answer": {...}}   answers the request
import json
import os
import socket
import sys
import threading
import time

path, script, gates = sys.argv[1], sys.argv[2], sys.argv[3]
streams = []
lock = threading.Lock()
STATUS = {"ok": True, "pid": os.getpid(), "version": "0.1.0", "uptime_s": 1.0,
          "generation": 1, "reloading": False, "sockets": [],
          "programs": [{"name": "app", "desired": 2, "ready": 2, "generation": 1,
                        "directory": "/srv/app", "workers": []}],
          "last_reload": ""}


def send(conn, obj):
    conn.sendall((json.dumps(obj, separators=(",", ":")) + "\n").encode())


def play(conn):
    with open(script) as f:
        steps = [json.loads(line) for line in f if line.strip()]
    for step in steps:
        if "gate" in step:
            while not os.path.exists(os.path.join(gates, step["gate"])):
                time.sleep(0.02)
        elif "event" in step:
            ev = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                  "level": "info"}
            ev.update(step["event"])
            with lock:
                for s in streams:
                    send(s, ev)
        else:
            send(conn, step["answer"])


def serve(conn):
    with conn, conn.makefile("r") as lines:
        for line in lines:
            words = line.split()
            if words == ["events"]:
                with lock:  # subscribed before it is told so, as segue does
                    send(conn, {"ok": True, "events": True})
                    streams.append(conn)
                threading.Event().wait()  # a stream: until the test ends
            elif words == ["status"]:
                send(conn, STATUS)
            elif words[1:] == ["wait"]:
                play(conn)
            else:
                send(conn, {"ok": False, "error": "unknown request"})


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
