"""The callback benchmark's reference: Flask answering every POST with a constant reply.

It reads the body, as the real endpoint does, and answers with XML the size of an encrypted
passive reply; nothing else. Served by gunicorn with the same settings as ``web.wsgi:app``.
``bench/floor_app.py`` is the same app storing one row per request.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Request, Response, request

# About the size of the real endpoint's sealed reply (an <Encrypt> envelope of a short text).
REPLY = "<xml><Encrypt><![CDATA[" + "A" * 1200 + "]]></Encrypt><MsgSignature>x</MsgSignature></xml>"


def reference_app(store: Callable[[Request], None] | None = None) -> Flask:
    """The constant-reply app; ``store`` (if given) runs per callback before the reply."""
    app = Flask(__name__)

    @app.post("/wechat/callback")
    def callback() -> Response:
        request.get_data()
        if store is not None:
            store(request)
        return Response(REPLY, mimetype="application/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    return app


app = reference_app()
