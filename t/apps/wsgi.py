# wsgi.py: a tiny WSGI app for t/0500-gunicorn.t; it answers the segue
# generation it was started in (X-Segue-Generation) and its pid.
# SPDX-License-Identifier: MIT
import os

GENERATION = os.environ.get("SEGUE_GENERATION", "0")


def application(environ, start_response):
    body = ("generation=%s pid=%d\n" % (GENERATION, os.getpid())).encode()
    start_response("200 OK", [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
        ("X-Segue-Generation", GENERATION),
    ])
    return [body]
