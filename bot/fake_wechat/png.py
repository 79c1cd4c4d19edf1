"""A tiny PNG encoder, enough to answer /cgi-bin/showqrcode with a real image."""

from __future__ import annotations

import hashlib
import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grayscale_png(rows: list[bytes]) -> bytes:
    """Encodes rows of 8-bit gray pixels (all rows the same width)."""
    width, height = len(rows[0]), len(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 per scanline
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def placeholder_qr(seed: str, modules: int = 21, scale: int = 4) -> bytes:
    """A QR-looking pattern derived from `seed` (not a scannable code: nothing scans the fake's codes)."""
    bits = int.from_bytes(hashlib.sha256(seed.encode()).digest() * 2, "big")
    rows = []
    for y in range(modules):
        row = bytes(0 if (bits >> ((y * modules + x) % 512)) & 1 else 255 for x in range(modules))
        scaled = bytes(pixel for pixel in row for _ in range(scale))
        rows.extend([scaled] * scale)
    return grayscale_png(rows)
