"""The server side of WeChat callbacks as plain functions, for the Flask blueprints to call.

Order of checks on every request: size, then signature (constant time, before any XML parser
sees the body), then timestamp, then decryption. XML is parsed only by `parse_message`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.wechat.client import (
    Mode,
    build_oa_callback,
    build_oa_url_check,
    build_wecom_callback,
    build_wecom_url_check,
    open_reply,
)
from bot.wechat.crypto import CallbackCredentials, check_signature, decrypt, seal_envelope
from bot.wechat.errors import (
    BadSignature,
    BodyTooLarge,
    CallbackError,
    DecryptError,
    MalformedMessage,
    StaleTimestamp,
)
from bot.wechat.messages import (
    InboundMessage,
    parse_message,
    render_inbound_xml,
    render_news_reply,
    render_text_reply,
    scene_from_event_key,
)
from bot.wechat.xmlsafe import MAX_BODY_BYTES

__all__ = [
    "MAX_BODY_BYTES",
    "BadSignature",
    "BodyTooLarge",
    "CallbackCredentials",
    "CallbackError",
    "DecryptError",
    "InboundMessage",
    "MalformedMessage",
    "Mode",
    "OpenedRequest",
    "StaleTimestamp",
    "build_oa_callback",
    "build_oa_url_check",
    "build_wecom_callback",
    "build_wecom_url_check",
    "open_oa_request",
    "open_reply",
    "open_wecom_request",
    "parse_message",
    "render_inbound_xml",
    "render_news_reply",
    "render_text_reply",
    "scene_from_event_key",
    "seal_reply",
    "verify_oa_url",
    "verify_wecom_url",
]

# The Encrypt field is base64, so it can be located without an XML parser; the signature covers
# exactly the string we then decrypt, whatever else the envelope holds.
_ENCRYPT = re.compile(rb"<Encrypt>(?:<!\[CDATA\[([A-Za-z0-9+/=]+)\]\]>|([A-Za-z0-9+/=]+))</Encrypt>")
_MAX_TIMESTAMP_DIGITS = 12
# Replies WeChat accepts unencrypted even in safe mode: "nothing more is coming".
_BARE_REPLIES = ("", "success")


@dataclass(frozen=True)
class OpenedRequest:
    """A verified callback body: the message XML, and whether the reply must be encrypted."""

    xml: str
    encrypted: bool


def verify_oa_url(creds: CallbackCredentials, args: Mapping[str, str], *, now: int, max_skew: int) -> str:
    """Official Account GET URL verification: the `echostr` to answer with."""
    timestamp, nonce = _timestamp_nonce(args)
    check_signature(args.get("signature"), creds.token, timestamp, nonce)
    _check_fresh(timestamp, now, max_skew)
    return _required(args, "echostr")


def verify_wecom_url(creds: CallbackCredentials, args: Mapping[str, str], *, now: int, max_skew: int) -> str:
    """WeCom GET URL verification: the decrypted `echostr` to answer with."""
    timestamp, nonce = _timestamp_nonce(args)
    echostr = _required(args, "echostr")
    check_signature(args.get("msg_signature"), creds.token, timestamp, nonce, echostr)
    _check_fresh(timestamp, now, max_skew)
    return decrypt(creds, echostr)


def open_oa_request(
    creds: CallbackCredentials, args: Mapping[str, str], body: bytes, *, now: int, max_skew: int
) -> OpenedRequest:
    """Verify an Official Account POST in plaintext, compatible or safe mode and return its XML.

    In compatible mode only the encrypted copy is trusted: the plaintext fields beside it are
    not covered by `msg_signature`. In plaintext mode the signature does not cover the body at
    all (WeChat's design), so the timestamp window is the only replay bound there.
    """
    _check_size(body)
    encrypt_type = args.get("encrypt_type", "raw").lower()
    if encrypt_type == "aes":
        return _open_encrypted(creds, args, body, now=now, max_skew=max_skew)
    if encrypt_type != "raw":
        raise MalformedMessage("unknown encrypt_type")
    timestamp, nonce = _timestamp_nonce(args)
    check_signature(args.get("signature"), creds.token, timestamp, nonce)
    _check_fresh(timestamp, now, max_skew)
    try:
        return OpenedRequest(xml=body.decode("utf-8"), encrypted=False)
    except UnicodeDecodeError as exc:
        raise MalformedMessage("body is not UTF-8") from exc


def open_wecom_request(
    creds: CallbackCredentials, args: Mapping[str, str], body: bytes, *, now: int, max_skew: int
) -> OpenedRequest:
    """Verify and decrypt a WeCom app callback POST (always encrypted)."""
    _check_size(body)
    return _open_encrypted(creds, args, body, now=now, max_skew=max_skew)


def seal_reply(
    creds: CallbackCredentials, reply_xml: str, *, encrypted: bool, nonce: str, timestamp: int
) -> str:
    """The passive reply body: `reply_xml` itself, or its encrypted envelope for encrypted requests."""
    if not encrypted or reply_xml in _BARE_REPLIES:
        return reply_xml
    return seal_envelope(creds, reply_xml, nonce=nonce, timestamp=timestamp)


def _open_encrypted(
    creds: CallbackCredentials, args: Mapping[str, str], body: bytes, *, now: int, max_skew: int
) -> OpenedRequest:
    timestamp, nonce = _timestamp_nonce(args)
    encrypted = _find_encrypt(body)
    check_signature(args.get("msg_signature"), creds.token, timestamp, nonce, encrypted)
    _check_fresh(timestamp, now, max_skew)
    return OpenedRequest(xml=decrypt(creds, encrypted), encrypted=True)


def _find_encrypt(body: bytes) -> str:
    matches = list(_ENCRYPT.finditer(body))
    if len(matches) != 1:
        raise MalformedMessage("expected exactly one Encrypt field")
    value = matches[0].group(1) or matches[0].group(2)
    return value.decode("ascii")


def _timestamp_nonce(args: Mapping[str, str]) -> tuple[str, str]:
    timestamp, nonce = args.get("timestamp"), args.get("nonce")
    if not timestamp or not nonce:
        raise BadSignature("missing timestamp or nonce")
    return timestamp, nonce


def _required(args: Mapping[str, str], name: str) -> str:
    value = args.get(name)
    if not value:
        raise MalformedMessage(f"missing {name}")
    return value


def _check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge("body too large")


def _check_fresh(timestamp: str, now: int, max_skew: int) -> None:
    if max_skew <= 0:  # disabled, e.g. to replay Tencent's 2014 vectors
        return
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise MalformedMessage("timestamp is not an integer")
    if abs(int(timestamp) - now) > max_skew:
        raise StaleTimestamp("timestamp outside the allowed window")
