"""WeCom group robots: POST /cgi-bin/webhook/send?key= (no access_token; the key is the credential)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from ..errors import WeChatError, ok
from ..protocol import Endpoint, Req, section, utf8_len
from ..records import ROBOT
from ..state import FakeWeChatState
from .assets import store_upload

ROBOT_TYPES = frozenset(
    {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}
)
_MAX_ARTICLES = 8


def _robot_key(state: FakeWeChatState, req: Req) -> str:
    key = req.params.get("key", "")
    if not state.robot_exists(key):
        raise WeChatError(93000)
    return key


def _check_text(state: FakeWeChatState, msgtype: str, content: dict[str, Any]) -> None:
    text = content.get("content")
    if not isinstance(text, str) or not text:
        raise WeChatError(44004)
    limit = state.limits.robot_text_bytes if msgtype == "text" else state.limits.robot_markdown_bytes
    if utf8_len(text) > limit:
        raise WeChatError(40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter")


def _check_image(state: FakeWeChatState, content: dict[str, Any]) -> None:
    try:
        data = base64.b64decode(str(content.get("base64", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeChatError(40058, "image.base64 invalid") from exc
    if not data or len(data) > state.limits.robot_image_bytes:
        raise WeChatError(40009)
    if hashlib.md5(data, usedforsecurity=False).hexdigest() != str(content.get("md5", "")).lower():
        raise WeChatError(40058, "image.md5 mismatch")


def _check_message(state: FakeWeChatState, msgtype: str, content: dict[str, Any]) -> None:
    if msgtype in ("text", "markdown", "markdown_v2"):
        _check_text(state, msgtype, content)
    elif msgtype == "image":
        _check_image(state, content)
    elif msgtype == "news":
        articles = content.get("articles")
        if not isinstance(articles, list) or not 0 < len(articles) <= _MAX_ARTICLES:
            raise WeChatError(40058, f"news.articles: 1 to {_MAX_ARTICLES} articles")
        if not all(isinstance(a, dict) and a.get("title") and a.get("url") for a in articles):
            raise WeChatError(40058, "news.articles: title and url required")
    elif msgtype in ("file", "voice") and content.get("media_id") not in state.media:
        raise WeChatError(40007)


def send(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    key = _robot_key(state, req)
    body = req.body()
    msgtype = body.get("msgtype")
    if msgtype not in ROBOT_TYPES:
        raise WeChatError(40008)
    _check_message(state, msgtype, section(body, msgtype))
    if not state.quotas.robot.try_acquire(key, state.now()):
        raise WeChatError(45009)
    state.deliver(ROBOT, key, body)
    return ok()


def upload_media(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    _robot_key(state, req)
    kind = req.params.get("type", "")
    if kind not in ("file", "voice"):
        raise WeChatError(40004)
    media = store_upload(state, req, kind)
    return ok(type=media.type, media_id=media.media_id, created_at=str(int(media.created_at)))


ENDPOINTS = (
    Endpoint("/cgi-bin/webhook/send", ("POST",), send),
    Endpoint("/cgi-bin/webhook/upload_media", ("POST",), upload_media),
)
