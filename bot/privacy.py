"""Encryption at rest for identifiers, keyed lookup hashes, and masking.

ID-card numbers and phones are stored AES-256-GCM encrypted, with an HMAC-SHA256
"blind index" beside them so that lookups and uniqueness work without decrypting.
Both keys are derived from ``[privacy] encryption_key`` with HKDF, so one secret
configures the whole thing and the two uses never share a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """Ciphertext that does not open with the configured key (wrong key or tampered)."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lanxi:" + purpose).derive(master)


class Vault:
    def __init__(self, encryption_key_b64: str) -> None:
        master = base64.b64decode(encryption_key_b64)
        if len(master) != 32:
            raise ValueError("encryption key must be 32 bytes")
        self._aead = AESGCM(_derive(master, b"aead"))
        self._index_key = _derive(master, b"blind-index")

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), None)

    def decrypt(self, blob: bytes) -> str:
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
            raise DecryptionError("not a Lanxi ciphertext")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, None).decode("utf-8")
        except Exception:
            raise DecryptionError("ciphertext does not open with the configured key") from None

    def blind_index(self, value: str, *, kind: str) -> str:
        """A stable keyed hash of a normalised identifier, for equality lookups only."""
        normalised = unicodedata.normalize("NFKC", value).strip().upper()
        mac = hmac.new(self._index_key, f"{kind}:{normalised}".encode(), hashlib.sha256)
        return mac.hexdigest()


_active: Vault | None = None


def configure(encryption_key_b64: str) -> Vault:
    """Install the process-wide vault (called by every entry point from Settings)."""
    global _active
    _active = Vault(encryption_key_b64)
    return _active


def vault() -> Vault:
    if _active is None:
        raise RuntimeError("privacy.configure() has not been called")
    return _active


def mask_id_number(value: str | None) -> str:
    """First 6 and last 4 characters kept: 230222********1234."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****1234 for mobiles; other numbers keep only their last 4."""
    if not value:
        return ""
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_name(value: str | None) -> str:
    """张*明: first and last character of a Chinese name kept."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
