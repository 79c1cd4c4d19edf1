"""The callback endpoints: verify, open, parse, dispatch, seal the reply. Thin by design.

`/wechat/callback` is the Official Account (plaintext, compatible and safe modes);
`/wecom/callback` the WeCom app (always encrypted). Hostile or broken input gets a 4xx
and one log line; a database that is down gets 503 so WeChat tries again later.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import InternalError, OperationalError

from bot.db import is_unavailable
from bot.inbound import Handler, dispatch
from bot.metrics import CALLBACK_SECONDS, CALLBACKS
from bot.runtime import Runtime
from bot.wechat import protocol
from bot.wechat.protocol import CallbackCredentials, CallbackError

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
OA_PATH, WECOM_PATH = "/wechat/callback", "/wecom/callback"
PATHS = frozenset({OA_PATH, WECOM_PATH})


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["lanxi"]
    return rt


def _handler(name: str) -> Handler:
    handler: Handler = current_app.extensions["lanxi_handlers"][name]
    return handler


def oa_credentials(rt: Runtime) -> CallbackCredentials:
    w = rt.settings.wechat
    return CallbackCredentials(token=w.token, encoding_aes_key=w.encoding_aes_key or None, app_id=w.app_id)


def wecom_credentials(rt: Runtime) -> CallbackCredentials:
    w = rt.settings.wecom
    return CallbackCredentials(token=w.token, encoding_aes_key=w.encoding_aes_key, app_id=w.corp_id)


def _text(body: str, status: int = 200) -> Response:
    return Response(
        body, status=status, mimetype="text/plain" if not body.startswith("<") else "application/xml"
    )


def _guarded(work: Callable[[], Response]) -> Response:
    endpoint = request.path.strip("/").split("/")[0]
    with CALLBACK_SECONDS.labels(endpoint).time():
        try:
            response = work()
        except CallbackError as exc:
            log.warning("callback refused (%s): %s from %s", exc.status, exc.reason, request.remote_addr)
            response = _text(exc.reason, exc.status)
        except (OperationalError, InternalError) as exc:
            if not is_unavailable(exc):
                raise
            log.error("callback could not reach the database; WeChat will retry")
            response = _text("database unavailable", 503)
    CALLBACKS.labels(endpoint, str(response.status_code)).inc()
    return response


def _body() -> bytes:
    # Read at most one byte past the cap, so an oversized body is refused without buffering it all.
    data = request.stream.read(protocol.MAX_BODY_BYTES + 1)
    if len(data) > protocol.MAX_BODY_BYTES:
        raise protocol.BodyTooLarge("body over the size limit")
    return data


@dataclass(frozen=True)
class _Endpoint:
    """What differs between the Official Account's callback and WeCom's."""

    credentials: Callable[[Runtime], CallbackCredentials]
    account: Callable[[Runtime], str]
    verify: Callable[..., str]
    open: Callable[..., protocol.OpenedRequest]
    handler: str


OFFICIAL_ACCOUNT = _Endpoint(
    oa_credentials,
    lambda rt: rt.settings.wechat.app_id,
    protocol.verify_oa_url,
    protocol.open_oa_request,
    "official_account",
)
WECOM = _Endpoint(
    wecom_credentials,
    lambda rt: rt.settings.wecom.corp_id,
    protocol.verify_wecom_url,
    protocol.open_wecom_request,
    "wecom",
)


def _callback(endpoint: _Endpoint) -> Response:
    rt = _runtime()
    creds = endpoint.credentials(rt)
    skew = rt.settings.wechat.max_clock_skew
    args = request.args.to_dict()
    if request.method == "GET":
        return _guarded(lambda: _text(endpoint.verify(creds, args, now=int(time.time()), max_skew=skew)))

    def post() -> Response:
        opened = endpoint.open(creds, args, _body(), now=int(time.time()), max_skew=skew)
        msg = protocol.parse_message(opened.xml)
        reply = dispatch(rt, endpoint.account(rt), msg, _handler(endpoint.handler))
        return _seal(creds, msg, reply, opened.encrypted)

    return _guarded(post)


@bp.route(OA_PATH, methods=["GET", "POST"])
def official_account() -> Response:
    return _callback(OFFICIAL_ACCOUNT)


@bp.route(WECOM_PATH, methods=["GET", "POST"])
def wecom() -> Response:
    return _callback(WECOM)


def _seal(creds: CallbackCredentials, msg: protocol.InboundMessage, reply: str, encrypted: bool) -> Response:
    if not reply:
        return _text("success")
    now = int(time.time())
    xml = protocol.render_text_reply(msg, reply, now=now)
    return _text(
        protocol.seal_reply(creds, xml, encrypted=encrypted, nonce=secrets.token_hex(8), timestamp=now)
    )
