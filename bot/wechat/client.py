"""WeChat's side of the callback protocol, for the chat simulator and tests.

Builds the signed (and optionally encrypted) requests WeChat would send, and opens the passive
replies our server answers with.
"""

from __future__ import annotations

from typing import Literal

from bot.wechat.crypto import CallbackCredentials, check_signature, decrypt, encrypt, sign
from bot.wechat.errors import CallbackError, MalformedMessage
from bot.wechat.xmlsafe import element, parse_fields

Mode = Literal["plain", "compat", "safe"]


def build_oa_url_check(
    creds: CallbackCredentials, *, echostr: str, timestamp: int, nonce: str
) -> dict[str, str]:
    """Query arguments of the Official Account's GET URL verification."""
    ts = str(timestamp)
    return {"signature": sign(creds.token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": echostr}


def build_wecom_url_check(
    creds: CallbackCredentials, *, echostr: str, timestamp: int, nonce: str, random16: bytes | None = None
) -> dict[str, str]:
    """Query arguments of WeCom's GET URL verification (the echostr travels encrypted)."""
    ts = str(timestamp)
    encrypted = encrypt(creds, echostr, random16=random16)
    return {
        "msg_signature": sign(creds.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": encrypted,
    }


def build_oa_callback(
    creds: CallbackCredentials,
    xml: str,
    *,
    mode: Mode,
    timestamp: int,
    nonce: str,
    random16: bytes | None = None,
) -> tuple[dict[str, str], bytes]:
    """(query args, body) of an Official Account POST in plaintext, compatible or safe mode."""
    ts = str(timestamp)
    args = {"signature": sign(creds.token, ts, nonce), "timestamp": ts, "nonce": nonce}
    if mode == "plain":
        return args, xml.encode("utf-8")
    encrypted = encrypt(creds, xml, random16=random16)
    args.update(encrypt_type="aes", msg_signature=sign(creds.token, ts, nonce, encrypted))
    if mode == "compat":
        end = xml.rfind("</xml>")
        if end < 0:
            raise ValueError("compatible mode needs a document ending in </xml>")
        body = f"{xml[:end]}{element('Encrypt', encrypted)}{xml[end:]}"
    else:
        account = _best_effort_fields(xml).get("ToUserName", "")
        body = f"<xml>{element('ToUserName', account)}{element('Encrypt', encrypted)}</xml>"
    return args, body.encode("utf-8")


def build_wecom_callback(
    creds: CallbackCredentials, xml: str, *, timestamp: int, nonce: str, random16: bytes | None = None
) -> tuple[dict[str, str], bytes]:
    """(query args, body) of a WeCom app callback POST (always encrypted)."""
    ts = str(timestamp)
    encrypted = encrypt(creds, xml, random16=random16)
    agent = _best_effort_fields(xml).get("AgentID", "")
    body = (
        f"<xml>{element('ToUserName', creds.app_id)}{element('Encrypt', encrypted)}"
        f"{element('AgentID', agent)}</xml>"
    )
    args = {"msg_signature": sign(creds.token, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    return args, body.encode("utf-8")


def open_reply(creds: CallbackCredentials, body: bytes) -> str:
    """The reply XML inside a passive reply: verified and decrypted if it is an envelope."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("reply is not UTF-8") from exc
    if "<Encrypt>" not in text:
        return text
    fields = parse_fields(text)
    encrypted, timestamp, nonce = (fields.get(name, "") for name in ("Encrypt", "TimeStamp", "Nonce"))
    check_signature(fields.get("MsgSignature"), creds.token, timestamp, nonce, encrypted)
    return decrypt(creds, encrypted)


def _best_effort_fields(xml: str) -> dict[str, str]:
    # Tests also send broken documents; the envelope then just lacks the plaintext header fields.
    try:
        return parse_fields(xml)
    except CallbackError:
        return {}
