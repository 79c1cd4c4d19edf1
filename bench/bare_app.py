"""The callback benchmark's reference: Flask answering every POST with a constant reply.

It reads the body, as the real endpoint does, and answers with XML the size of an encrypted
passive reply; nothing else. Served by gunicorn with the same settings as ``web.wsgi:app``.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)
# About the size of the real endpoint's sealed reply (an <Encrypt> envelope of a short text).
REPLY = "<xml><Encrypt><![CDATA[" + "A" * 1200 + "]]></Encrypt><MsgSignature>x</MsgSignature></xml>"


@app.post("/wechat/callback")
def callback() -> Response:
    request.get_data()
    return Response(REPLY, mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
