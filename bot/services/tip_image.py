"""Perceptual hashes of tip screenshots, so re-shared images of one rumor group together."""

from __future__ import annotations

import io

import imagehash
from PIL import Image, UnidentifiedImageError

# A screenshot is a few megapixels; anything far larger is refused before decoding,
# which also keeps Pillow's decompression-bomb warning from ever firing.
MAX_IMAGE_PIXELS = 40_000_000
PHASH_BITS = 64


class TipImageError(ValueError):
    """The bytes are not an image we are willing to decode."""


def image_phash(data: bytes) -> str:
    """The 64-bit perceptual hash (imagehash.phash) of an image, as 16 hex digits."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size  # read from the header, nothing decoded yet
            if width * height > MAX_IMAGE_PIXELS:
                raise TipImageError(f"image too large: {width}x{height} pixels")
            image.draft("L", (256, 256))  # JPEG: decode at reduced scale, phash only needs 32x32
            return str(imagehash.phash(image.convert("L")))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise TipImageError(f"unreadable image: {exc}") from exc


def phash_to_int(phash: str) -> int:
    """Parse a hash from ``image_phash`` (16 hex digits) into an int."""
    value = int(phash, 16)
    if len(phash) != PHASH_BITS // 4 or value >> PHASH_BITS:
        raise ValueError(f"not a 64-bit perceptual hash: {phash!r}")
    return value
