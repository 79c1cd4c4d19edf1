"""Hostile callback requests for the fuzz tests: hypothesis strategies and the request runner.

Most generated bodies are signed correctly on purpose: the signature is checked before any
XML parser sees the body, so only signed garbage reaches decryption and parsing.
"""

from __future__ import annotations

import base64
import secrets
import struct
import time
from dataclasses import dataclass

from flask.testing import FlaskClient
from hypothesis import strategies as st
from wechatpy.crypto.base import WeChatCipher
from wechatpy.crypto.pkcs7 import PKCS7Encoder

from bot.wechat import protocol
from bot.wechat.crypto import CallbackCredentials, aes_key, sign

ALLOWED = frozenset({200, 400, 403, 413, 503})
MAX_SECONDS = 2.0  # one request; a parser stuck on a bomb would take far longer
ENDPOINTS = ("/wechat/callback", "/wecom/callback")


@dataclass(frozen=True)
class Sent:
    """One request as sent, kept for the failure message."""

    path: str
    method: str
    args: dict[str, str]
    body: bytes


def send(client: FlaskClient, request: Sent) -> int:
    """Send `request`; assert it neither failed with 5xx (other than 503) nor hung. Returns the status."""
    started = time.perf_counter()
    response = client.open(request.path, method=request.method, query_string=request.args, data=request.body)
    elapsed = time.perf_counter() - started
    assert response.status_code in ALLOWED, (response.status_code, request)
    assert elapsed < MAX_SECONDS, (elapsed, request)
    return response.status_code


# --- hostile XML -------------------------------------------------------------------------

_TAGS = st.sampled_from(
    ["xml", "ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "a"]
)
_TEXT = st.text(max_size=40)
_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">' for i in range(9))
    + "]><xml><Content>&lol8;</Content></xml>"
)
SPECIMENS = (
    _BOMB,
    '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
    '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><xml/>',
    '<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml/>',
    '<?xml version="1.0"?><!DOCTYPE xml><xml><MsgType>text</MsgType></xml>',
    "<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>",
    "<xml>" + "<a/>" * 10_000 + "</xml>",
    "<xml><Content>" + "长" * 20_000 + "</Content></xml>",
    "<xml><Content><![CDATA[" + "x" * 60_000 + "]]></Content></xml>",
    '<?xml version="1.0" encoding="gbk"?><xml><Content>\u4e2d</Content></xml>',
    "<xml><Content>\ud800</Content></xml>",
    "<xml><Content>&#0;&#xD800;</Content></xml>",
    "<?xml-stylesheet href='http://127.0.0.1:1/'?><xml/>",
    '<xml xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></xml>',
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, inner: f"<{tag}>{inner}</{tag}>", _TAGS, st.lists(children, max_size=4).map("".join)
    )


_FRAGMENT = st.recursive(
    st.one_of(
        _TEXT,
        _TEXT.map(lambda t: f"<![CDATA[{t}]]>"),
        st.sampled_from(
            ["&amp;", "&lt;", "&foo;", "&#65;", "&#x110000;", "<!--c-->", "<?pi x?>", "]]>", "<", "&"]
        ),
    ),
    _element,
    max_leaves=20,
)
MESSAGE = st.builds(
    lambda kind, content, msg_id: protocol.render_inbound_xml(
        ToUserName="gh_lanxi",
        FromUserName=f"oFuzz{msg_id % 50}",
        CreateTime=int(time.time()),
        MsgType=kind,
        Content=content,
        MsgId=msg_id,
    ),
    st.sampled_from(["text", "event", "image", "voice", "location", "bogus"]),
    st.text(max_size=200),
    st.integers(min_value=1, max_value=2**62),
)
HOSTILE_XML = st.one_of(
    _FRAGMENT,
    _FRAGMENT.map(lambda f: f"<xml>{f}</xml>"),
    st.sampled_from(SPECIMENS),
    MESSAGE,
)


# --- requests ----------------------------------------------------------------------------


def signed_plain(creds: CallbackCredentials, body: bytes, nonce: str) -> Sent:
    """A plaintext-mode OA POST whose (body-less) signature is right, so the body reaches the parser."""
    args, _ = protocol.build_oa_callback(
        creds, "<xml/>", mode="plain", timestamp=int(time.time()), nonce=nonce
    )
    return Sent("/wechat/callback", "POST", args, body)


def signed_encrypted(path: str, creds: CallbackCredentials, xml: str, nonce: str) -> Sent:
    """A correctly signed and encrypted POST carrying `xml` (lone surrogates kept as bytes)."""
    payload = frame(xml.encode("utf-8", "surrogatepass"), creds.app_id.encode())
    return envelope(path, creds, raw_encrypt(creds, payload, pad=True), nonce, resign=True)


def raw_encrypt(creds: CallbackCredentials, frame: bytes, *, pad: bool) -> str:
    """Base64 AES of an arbitrary frame: lets a test send wrong padding, lengths and app ids."""
    assert creds.encoding_aes_key is not None
    data = bytes(PKCS7Encoder.encode(frame)) if pad else frame
    cipher = WeChatCipher(aes_key(creds.encoding_aes_key))
    return base64.b64encode(bytes(cipher.encrypt(data))).decode("ascii")


def frame(xml: bytes, app_id: bytes, *, length: int | None = None) -> bytes:
    """random(16) + length + xml + app id, the plaintext inside WeChat's ciphertext."""
    return secrets.token_bytes(16) + struct.pack(">I", len(xml) if length is None else length) + xml + app_id


def envelope(path: str, creds: CallbackCredentials, encrypted: str, nonce: str, *, resign: bool) -> Sent:
    """Wrap `encrypted` as the endpoint expects; `resign` signs it, so it reaches decryption."""
    ts = str(int(time.time()))
    signature = sign(creds.token, ts, nonce, encrypted) if resign else "0" * 40
    args = {"msg_signature": signature, "timestamp": ts, "nonce": nonce}
    if path == "/wechat/callback":
        args.update(signature=sign(creds.token, ts, nonce), encrypt_type="aes")
    body = f"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return Sent(path, "POST", args, body.encode("ascii"))
