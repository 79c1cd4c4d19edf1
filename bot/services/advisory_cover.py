"""Advisory cover images: checked, bounded and re-encoded (dropping EXIF and anything hidden in the file)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 1600  # larger covers are scaled down: phones show them at a few hundred pixels
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class CoverProblem(ValueError):
    """An upload that is not a usable cover; the message is for the composer, in Chinese."""


def prepare_cover(data: bytes) -> tuple[bytes, str]:
    """(re-encoded bytes, content type) of an uploaded JPEG or PNG."""
    if not data:
        raise CoverProblem("封面图片为空。")
    if len(data) > MAX_BYTES:
        raise CoverProblem(f"封面图片不能超过 {MAX_BYTES // 1024 // 1024} MB。")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in _FORMATS:
                raise CoverProblem("封面图片只支持 JPG 或 PNG 格式。")
            if width * height > MAX_PIXELS:
                raise CoverProblem("封面图片尺寸过大。")
            probe.load()
            image = probe.convert("RGB") if fmt == "JPEG" else probe.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise CoverProblem("无法识别的图片文件，请上传 JPG 或 PNG 图片。") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {"optimize": True}))
    return out.getvalue(), _FORMATS[fmt]
