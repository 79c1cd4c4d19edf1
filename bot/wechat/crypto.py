"""WeChat callback signing and AES message framing (shared by Official Account and WeCom).

AES itself is wechatpy's (`WeChatCipher`: AES-256-CBC, IV = key[:16]; `PKCS7Encoder`: 32-byte
blocks). The framing around it is ours because wechatpy's decryptor accepts any padding byte and
unchecked length fields; we reject those as DecryptError instead of returning garbage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass, field

from wechatpy.crypto.base import WeChatCipher
from wechatpy.crypto.pkcs7 import PKCS7Encoder

from bot.wechat.errors import BadSignature, DecryptError, MalformedMessage
from bot.wechat.xmlsafe import element

_BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
_RANDOM_LEN = 16
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class CallbackCredentials:
    """Callback secrets of one account; `app_id` is the Official Account appid or the WeCom corpid."""

    token: str = field(repr=False)
    encoding_aes_key: str | None = field(repr=False)
    app_id: str

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("callback token must not be empty")
        if self.encoding_aes_key is not None:
            aes_key(self.encoding_aes_key)


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        return base64.b64decode(encoding_aes_key + "=", validate=True)
    except ValueError as exc:
        raise ValueError("EncodingAESKey is not base64") from exc


def sign(token: str, *parts: str) -> str:
    """WeChat's signature: sha1 hex of the token and parts, sorted and concatenated."""
    data = b"".join(sorted(_utf8(p) for p in (token, *parts)))
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - the protocol mandates SHA-1


def check_signature(provided: str | None, token: str, *parts: str) -> None:
    """Raise BadSignature unless `provided` is the signature of the parts (constant-time compare)."""
    if not provided:
        raise BadSignature("missing signature")
    if not hmac.compare_digest(sign(token, *parts).encode("ascii"), _utf8(provided)):
        raise BadSignature("signature mismatch")


def encrypt(creds: CallbackCredentials, text: str, *, random16: bytes | None = None) -> str:
    """Base64 ciphertext of random(16) + length + text + app_id; `random16` only for fixed vectors."""
    prefix = secrets.token_hex(_RANDOM_LEN // 2).encode("ascii") if random16 is None else random16
    if len(prefix) != _RANDOM_LEN:
        raise ValueError("random prefix must be 16 bytes")
    payload = text.encode("utf-8")
    frame = prefix + _LENGTH.pack(len(payload)) + payload + creds.app_id.encode("utf-8")
    padded = bytes(PKCS7Encoder.encode(frame))
    return base64.b64encode(bytes(_cipher(creds).encrypt(padded))).decode("ascii")


def decrypt(creds: CallbackCredentials, ciphertext_b64: str) -> str:
    """Plaintext of an encrypted field; DecryptError on bad base64, length, padding or app id."""
    try:
        raw = base64.b64decode(ciphertext_b64, validate=True)
    except ValueError as exc:
        raise DecryptError("ciphertext is not base64") from exc
    if not raw or len(raw) % _BLOCK:
        raise DecryptError("ciphertext length is not a multiple of 32")
    frame = _unpad(bytes(_cipher(creds).decrypt(raw)))
    if len(frame) < _RANDOM_LEN + _LENGTH.size:
        raise DecryptError("plaintext too short")
    body = frame[_RANDOM_LEN:]
    (length,) = _LENGTH.unpack_from(body)
    end = _LENGTH.size + length
    if end > len(body):
        raise DecryptError("length field exceeds plaintext")
    if body[end:] != creds.app_id.encode("utf-8"):
        raise DecryptError("app id inside ciphertext does not match")
    try:
        return body[_LENGTH.size : end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("decrypted message is not UTF-8") from exc


def _unpad(padded: bytes) -> bytes:
    count = padded[-1]
    if not 1 <= count <= _BLOCK or padded[-count:] != bytes([count]) * count:
        raise DecryptError("bad PKCS#7 padding")
    return padded[:-count]


def _cipher(creds: CallbackCredentials) -> WeChatCipher:
    if creds.encoding_aes_key is None:
        raise DecryptError("no EncodingAESKey configured")
    return WeChatCipher(aes_key(creds.encoding_aes_key))


def _utf8(text: str) -> bytes:
    # surrogatepass: query strings may carry lone surrogates; they must fail the compare, not crash.
    return text.encode("utf-8", "surrogatepass")


def seal_envelope(
    creds: CallbackCredentials, xml: str, *, nonce: str, timestamp: int, random16: bytes | None = None
) -> str:
    """The encrypted passive-reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce) around `xml`."""
    encrypted = encrypt(creds, xml, random16=random16)
    fields = (
        element("Encrypt", encrypted),
        element("MsgSignature", sign(creds.token, str(timestamp), nonce, encrypted)),
        element("TimeStamp", timestamp),
        element("Nonce", nonce),
    )
    return f"<xml>{''.join(fields)}</xml>"
