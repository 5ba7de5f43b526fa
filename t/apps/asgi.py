# asgi.py: a tiny ASGI app for t/0530-uvicorn.t; it answers the segue
# generation it was started in (X-Segue-Generation) and its pid.
# SPDX-License-Identifier: MIT
import os

GENERATION = os.environ.get("SEGUE_GENERATION", "0")


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = ("generation=%s pid=%d\n" % (GENERATION, os.getpid())).encode()
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode()),
            (b"x-segue-generation", GENERATION.encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})
