"""Media attached to tips (screenshots, voice notes): type by magic bytes, size cap, SHA-256.

The declared Content-Type (from WeChat or a browser) is never trusted: the first bytes decide
what a file is, and anything that is not a known image or voice format is refused. Stored media
is served back to reviewers with the type found here, never the one the sender claimed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.models import Tip, TipMedia

from .tip_image import TipImageError, image_phash

MediaKind = Literal["image", "voice"]

# (prefix at offset 0, content type, kind); WEBP is checked separately (RIFF....WEBP).
_SIGNATURES: tuple[tuple[bytes, str, MediaKind], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "image"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "image"),
    (b"GIF87a", "image/gif", "image"),
    (b"GIF89a", "image/gif", "image"),
    (b"#!AMR\n", "audio/amr", "voice"),  # WeChat voice notes
    (b"#!SILK_V3", "audio/silk", "voice"),
    (b"\x02#!SILK_V3", "audio/silk", "voice"),
    (b"ID3", "audio/mpeg", "voice"),
    (b"\xff\xfb", "audio/mpeg", "voice"),
    (b"OggS", "audio/ogg", "voice"),
)
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "audio/amr": "amr",
    "audio/silk": "silk",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
}


class MediaRejected(ValueError):
    """The file is too large or not an accepted type; the message is shown to the sender or staff."""


@dataclass(frozen=True)
class Sniffed:
    kind: MediaKind
    content_type: str


def sniff(data: bytes) -> Sniffed | None:
    """What the bytes are, by their signature; None for anything not accepted."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image", "image/webp")
    for prefix, content_type, kind in _SIGNATURES:
        if data.startswith(prefix):
            return Sniffed(kind, content_type)
    return None


def check(data: bytes, max_bytes: int, allowed: frozenset[MediaKind]) -> Sniffed:
    """The file's type if it may be stored, else MediaRejected."""
    if not data:
        raise MediaRejected("文件是空的")
    if len(data) > max_bytes:
        raise MediaRejected(f"文件超过 {max_bytes // (1024 * 1024) or 1} MB 上限")
    found = sniff(data)
    if found is None or found.kind not in allowed:
        names = "、".join("图片（JPG、PNG、GIF、WEBP）" if k == "image" else "语音" for k in sorted(allowed))
        raise MediaRejected(f"只接受{names}")
    return found


def attach(db: Session, tip: Tip, data: bytes, max_bytes: int, allowed: frozenset[MediaKind]) -> TipMedia:
    """Store a checked file for ``tip``; an image also gives the tip its perceptual hash."""
    found = check(data, max_bytes, allowed)
    phash = ""
    if found.kind == "image":
        try:
            phash = image_phash(data)
        except TipImageError:
            phash = ""  # a damaged picture is still evidence; it just cannot cluster by look
        if phash and not tip.image_phash:
            tip.image_phash = phash
    media = TipMedia(
        tip_id=tip.id,
        kind=found.kind,
        content_type=found.content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        phash=phash,
        content=data,
    )
    db.add(media)
    db.flush()
    return media


def extension(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "bin")
