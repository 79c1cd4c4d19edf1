"""Screenshots and voice notes fetched from the local WeChat's media/get after the callback answered."""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import replace
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.fake_wechat.records import Media
from bot.jobs import JOBS, run_job
from bot.models import Tip, TipMedia, utcnow
from bot.runtime import Runtime
from bot.services import tip_media
from bot.tip_jobs import tip_intake
from tests.tips.support import Chat, cluster_of, pointed_at


def picture(seed: int, size: tuple[int, int] = (320, 480), fmt: str = "PNG") -> bytes:
    """A screenshot-like picture: bars and a block placed by ``seed``; same seed, same look."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    for row in range(8):
        shade = (seed * 37 + row * 53) % 200
        top = row * height // 8
        draw.rectangle(
            (0, top, width * (1 + (seed + row) % 3) // 4, top + height // 16), fill=(shade, shade, 255)
        )
    draw.ellipse((width // 3, height // 3, width // 3 + width // 4, height // 3 + width // 4), fill="red")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


AMR = b"#!AMR\n" + bytes(range(200))


@pytest.fixture
def fake(rt: Runtime) -> Iterator[FakeWeChatServer]:
    state = FakeWeChatState()
    state.register_app(rt.settings.wechat.app_id, rt.settings.wechat.app_secret)
    with FakeWeChatServer(state) as server:
        yield server


@pytest.fixture
def wrt(rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    return Runtime(pointed_at(rt.settings, fake.url), rt.engine, rt.sessions)


def upload(fake: FakeWeChatServer, data: bytes, kind: str = "image", content_type: str = "image/jpeg") -> str:
    media_id = secrets.token_urlsafe(24)
    fake.state.media[media_id] = Media(media_id, kind, data, content_type, "x", fake.state.now())
    return media_id


def send_screenshot(rt: Runtime, openid: str, media_id: str) -> None:
    chat = Chat(rt, openid)
    chat.send("举报")
    chat.send(msg_type="image", media_id=media_id, pic_url="http://mmbiz.qpic.cn/x")
    chat.send("家族群")
    chat.send("刚才")


def tip_of(db: Session, openid_tip_index: int = 0) -> Tip:
    return list(db.scalars(select(Tip).order_by(Tip.id)))[openid_tip_index]


def test_the_job_is_declared() -> None:
    assert "tip_intake" in {spec.id for spec in JOBS}


def test_a_screenshot_is_fetched_hashed_and_clustered_by_its_look(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    original = picture(7)
    resized = picture(7, (640, 960), "JPEG")  # the same screenshot, re-shared at another size
    different = picture(2)
    for n, data in enumerate((original, resized, different)):
        send_screenshot(wrt, f"oShot{n}", upload(fake, data))
    assert [t.cluster_id for t in db.scalars(select(Tip))] == [None, None, None]

    summary = run_job(wrt, "tip_intake")
    assert summary["stored"] == 3 and summary["failed"] == 0
    db.expire_all()
    first, second, third = db.scalars(select(Tip).order_by(Tip.id))
    media = db.scalars(select(TipMedia).where(TipMedia.tip_id == first.id)).one()
    assert media.sha256 == hashlib.sha256(original).hexdigest() and media.size == len(original)
    assert (media.kind, media.content_type, media.content) == ("image", "image/png", original)
    assert first.media_state == "done" and first.image_phash == media.phash != ""
    assert first.cluster_id == second.cluster_id != third.cluster_id
    cluster = cluster_of(db, first)
    assert (cluster.tip_count, cluster.media_count, cluster.summary) == (2, 2, "[截图]")
    assert run_job(wrt, "tip_intake")["media_due"] == 0  # nothing fetched twice


def test_a_voice_note_is_kept_as_evidence(wrt: Runtime, db: Session, fake: FakeWeChatServer) -> None:
    chat = Chat(wrt, "oVoice")
    chat.send("举报")
    chat.send(msg_type="voice", media_id=upload(fake, AMR, "voice", "audio/amr"), recognition="说是要封村了")
    chat.send("村里的群")
    chat.send("早上")
    tip_intake(wrt, utcnow())
    tip = tip_of(db)
    db.refresh(tip)
    media = db.scalars(select(TipMedia).where(TipMedia.tip_id == tip.id)).one()
    assert (tip.media_state, media.kind, media.content_type, media.content) == (
        "done",
        "voice",
        "audio/amr",
        AMR,
    )
    assert cluster_of(db, tip).media_count == 1


def test_a_file_over_the_size_cap_is_refused_and_the_tip_still_placed(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    small = Runtime(replace(wrt.settings, tips={"max_media_bytes": 1000}), wrt.engine, wrt.sessions)
    send_screenshot(small, "oBig", upload(fake, picture(3)))
    assert tip_intake(small, utcnow())["failed"] == 1
    tip = tip_of(db)
    db.refresh(tip)
    assert tip.media_state == "failed" and "1000" in tip.media_error
    assert tip.cluster_id is not None and db.scalar(select(TipMedia.id)) is None


def test_a_file_that_is_not_what_it_claims_is_refused(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    disguised = b"<html><script>alert(1)</script></html>" + b" " * 100
    send_screenshot(wrt, "oFake", upload(fake, disguised, content_type="image/jpeg"))
    tip_intake(wrt, utcnow())
    tip = tip_of(db)
    db.refresh(tip)
    assert tip.media_state == "failed" and "只接受" in tip.media_error
    assert db.scalar(select(TipMedia.id)) is None


def test_an_expired_media_id_fails_for_good(wrt: Runtime, db: Session) -> None:
    send_screenshot(wrt, "oExpired", "no-such-media")
    tip_intake(wrt, utcnow())
    tip = tip_of(db)
    db.refresh(tip)
    assert tip.media_state == "failed" and tip.media_attempts == 1 and tip.cluster_id is not None


def test_a_busy_wechat_is_retried_later(wrt: Runtime, db: Session, fake: FakeWeChatServer) -> None:
    send_screenshot(wrt, "oRetry", upload(fake, picture(5)))
    fake.state.inject_fault("/cgi-bin/media/get", errcode=-1, times=1)
    now = utcnow()
    assert tip_intake(wrt, now)["failed"] == 1
    tip = tip_of(db)
    db.refresh(tip)
    assert (tip.media_state, tip.media_attempts, tip.cluster_id) == ("pending", 1, None)
    assert tip_intake(wrt, now)["media_due"] == 0  # not before its backoff
    assert tip_intake(wrt, now + timedelta(minutes=2))["stored"] == 1
    db.refresh(tip)
    assert tip.media_state == "done" and tip.cluster_id is not None


def test_sniffing_trusts_bytes_not_names() -> None:
    assert tip_media.sniff(picture(1)) == tip_media.Sniffed("image", "image/png")
    assert tip_media.sniff(picture(1, fmt="JPEG")) == tip_media.Sniffed("image", "image/jpeg")
    assert tip_media.sniff(picture(1, fmt="WEBP")) == tip_media.Sniffed("image", "image/webp")
    assert tip_media.sniff(AMR) == tip_media.Sniffed("voice", "audio/amr")
    assert tip_media.sniff(b"%PDF-1.4") is None
    with pytest.raises(tip_media.MediaRejected, match="只接受"):
        tip_media.check(AMR, 10_000, frozenset({"image"}))
    with pytest.raises(tip_media.MediaRejected, match="空"):
        tip_media.check(b"", 10_000, frozenset({"image"}))
