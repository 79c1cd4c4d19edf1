"""Cover uploads: JPEG and PNG only, bounded, re-encoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.services.advisory_cover import CoverProblem, prepare_cover


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_png_and_jpeg_are_accepted_and_large_ones_scaled_down() -> None:
    data, kind = prepare_cover(png((3200, 800)))
    assert kind == "image/png"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (1600, 400)
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="JPEG")
    assert prepare_cover(out.getvalue())[1] == "image/jpeg"


@pytest.mark.parametrize("data", [b"", b"<svg onload=alert(1)>", b"GIF89a" + b"\0" * 20])
def test_other_files_are_refused(data: bytes) -> None:
    with pytest.raises(CoverProblem):
        prepare_cover(data)


def test_gif_is_refused_with_a_reason() -> None:
    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, format="GIF")
    with pytest.raises(CoverProblem, match="JPG 或 PNG"):
        prepare_cover(out.getvalue())
