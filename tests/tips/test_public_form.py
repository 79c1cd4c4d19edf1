"""The public /report form: validation, anti-spam, the per-client rate limit, uploads, the status page."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.config import replace
from bot.models import Tip, TipChannel, TipFormHit, TipMedia
from bot.runtime import Runtime
from bot.services import tip_replies
from web import create_app
from web.public.report import started_token

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def fill(client: FlaskClient, app: Flask, *, seconds_ago: float = 30, **fields: Any) -> dict[str, Any]:
    page = client.get("/report").get_data(as_text=True)
    token = _CSRF.search(page)
    assert token
    with app.test_request_context():
        started = started_token(time.time() - seconds_ago)
    return {
        "csrf_token": token[1],
        "started": started,
        "content": "听说明天起全县停水三天，赶紧接水",
        "seen_where": "小区业主群",
        "seen_when": "今天早上",
        "link": "",
        "contact": "",
        "website": "",
        **fields,
    }


def submit(client: FlaskClient, app: Flask, addr: str = "203.0.113.7", **fields: Any) -> Any:
    data = fill(client, app, **fields)
    return client.post(
        "/report", data=data, environ_base={"REMOTE_ADDR": addr}, content_type="multipart/form-data"
    )


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count(model.id))) or 0


def test_the_form_is_public_and_made_for_phones(client: FlaskClient) -> None:
    page = client.get("/report")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="viewport"' in html and "举报谣言" in html
    for name in ("content", "seen_where", "seen_when", "link", "image", "contact", "website", "started"):
        assert f'name="{name}"' in html
    assert 'enctype="multipart/form-data"' in html and "<script" not in html


def test_a_valid_report_gets_a_ticket_and_a_status_page(app: Flask, client: FlaskClient, db: Session) -> None:
    answer = submit(client, app, contact="13800001111", link="https://example.com/a?utm_source=x")
    assert answer.status_code == 302
    status_page = client.get(answer.headers["Location"])
    html = status_page.get_data(as_text=True)
    tip = db.scalars(select(Tip)).one()
    assert tip.ticket in html and "谢谢您" in html and "等待网警核实" in html
    assert (tip.channel, tip.kind, tip.seen_where, tip.reporter_contact) == (
        TipChannel.FORM,
        "text",
        "小区业主群",
        "13800001111",
    )
    assert tip.url == "https://example.com/a?utm_source=x" and tip.cluster_id is not None
    assert tip.reporter_identity_id is None and "203.0.113.7" not in tip.reporter_hash
    raw = db.execute(text("SELECT reporter_contact FROM tips")).scalar_one()
    assert b"13800001111" not in bytes(raw)  # encrypted at rest


def test_the_status_page_needs_the_token_from_the_form(app: Flask, client: FlaskClient, db: Session) -> None:
    submit(client, app)
    ticket = db.scalars(select(Tip.ticket)).one()
    assert client.get(f"/report/status/{ticket}/{tip_replies.status_token(ticket)}").status_code == 200
    assert client.get(f"/report/status/{ticket}/{'0' * 24}").status_code == 404
    other = ticket[:-4] + "0002"
    assert client.get(f"/report/status/{other}/{tip_replies.status_token(other)}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"content": ""}, "请填写看到的说法"),
        ({"seen_where": ""}, "请填写在哪里看到的"),
        ({"content": "谣" * 2001}, "最多 2000 字"),
        ({"seen_where": "群" * 101}, "最多 100 字"),
        ({"link": "javascript:alert(1)"}, "链接要以"),
        ({"contact": "1" * 51}, "最多 50 字"),
        ({"csrf_token": "forged"}, "请求有误"),
    ],
)
def test_invalid_reports_are_refused_with_a_reason(
    app: Flask, client: FlaskClient, db: Session, fields: dict[str, str], error: str
) -> None:
    answer = submit(client, app, **fields)
    assert answer.status_code == 400 and error in answer.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_a_link_alone_or_a_picture_alone_is_enough(app: Flask, client: FlaskClient, db: Session) -> None:
    assert submit(client, app, content="", link="https://v.douyin.com/xyz/").status_code == 302
    picture = (io.BytesIO(PNG), "shot.png")
    assert submit(client, app, content="", image=picture, addr="198.51.100.2").status_code == 302
    kinds = db.scalars(select(Tip.kind).order_by(Tip.id)).all()
    assert kinds == ["link", "image"]
    media = db.scalars(select(TipMedia)).one()
    assert (media.content_type, media.content) == ("image/png", PNG)


def test_uploads_are_checked_by_their_bytes_and_size(app: Flask, rt: Runtime, db: Session) -> None:
    small = create_app(
        runtime=Runtime(replace(rt.settings, tips={"max_media_bytes": 100}), rt.engine, rt.sessions)
    )
    small.config.update(TESTING=True)
    client = small.test_client()
    fake_picture = (io.BytesIO(b"<svg onload=alert(1)>" + b" " * 50), "evil.png")
    answer = submit(client, small, image=fake_picture)
    assert answer.status_code == 400 and "只接受图片" in answer.get_data(as_text=True)
    answer = submit(client, small, image=(io.BytesIO(PNG), "big.png"))
    assert answer.status_code == 400 and "上限" in answer.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_the_honeypot_swallows_bots_quietly(app: Flask, client: FlaskClient, db: Session) -> None:
    answer = submit(client, app, website="http://spam.example")
    assert answer.status_code == 200 and "举报已收到" in answer.get_data(as_text=True)
    assert count(db, Tip) == 0 and count(db, TipFormHit) == 1  # it still spends the client's budget


def test_a_form_sent_back_too_fast_is_refused(app: Flask, client: FlaskClient, db: Session) -> None:
    answer = submit(client, app, seconds_ago=0.5)
    assert answer.status_code == 400 and "提交太快了" in answer.get_data(as_text=True)
    assert count(db, Tip) == 0


def test_a_forged_or_stale_start_time_is_refused(app: Flask, client: FlaskClient, db: Session) -> None:
    assert submit(client, app, started="forged").status_code == 400
    assert submit(client, app, seconds_ago=3 * 3600).status_code == 400
    assert count(db, Tip) == 0


def test_each_client_has_an_hourly_budget_kept_in_the_database(
    app: Flask, client: FlaskClient, db: Session, rt: Runtime
) -> None:
    limit = rt.settings.tips.form_hourly_limit
    for n in range(limit):
        assert submit(client, app, content=f"第{n}条：听说要封小区了{n}").status_code == 302
    refused = submit(client, app, content="再来一条")
    assert refused.status_code == 429 and "太频繁" in refused.get_data(as_text=True)
    assert submit(client, app, addr="198.51.100.9").status_code == 302  # another client is not affected
    # another process (a second app on the same database) sees the same budget
    other = create_app(runtime=rt)
    other.config.update(TESTING=True)
    assert submit(other.test_client(), other, content="换个进程").status_code == 429
    assert count(db, Tip) == limit + 1
    hashes = db.scalars(select(TipFormHit.client_hash)).all()
    assert all("203.0.113.7" not in h for h in hashes)


def test_the_daily_limit_applies_to_form_reporters_too(app: Flask, rt: Runtime, db: Session) -> None:
    tight = create_app(
        runtime=Runtime(
            replace(rt.settings, tips={"per_reporter_daily_limit": 1, "form_hourly_limit": 10}),
            rt.engine,
            rt.sessions,
        )
    )
    tight.config.update(TESTING=True)
    client = tight.test_client()
    assert submit(client, tight).status_code == 302
    refused = submit(client, tight, content="今天第二条")
    assert refused.status_code == 429 and "请明天再提交" in refused.get_data(as_text=True)
    assert count(db, Tip) == 1
