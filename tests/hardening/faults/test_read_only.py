"""The database read-only (a read-only mount, a full disk) or away: the panel shows the 503 page in
Chinese and logs one line, the callback answers 503, nothing is half-written, and a retry afterwards works."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot import db as bot_db
from bot.models import InboundMessage as InboundRow
from bot.models import StaffSession, StaffUser
from bot.runtime import Runtime
from tests.factories import login, make_user
from tests.gateway.test_webhook import CountingHandler, install, post, text_xml
from web import create_app

from .outages import database_down, read_only

UNAVAILABLE = "数据库暂时无法访问，请稍后重试。已记录日志。"


@pytest.fixture()
def live_app(committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setattr(bot_db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # a locked SQLite gives up in 0.3 s
    committing_rt.engine.dispose()
    app = create_app(runtime=committing_rt)
    app.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)
    yield app


@pytest.fixture()
def user(committing_rt: Runtime) -> str:
    with committing_rt.session() as db:
        return make_user(db, username="readonly_admin").username


def open_sessions(rt: Runtime, username: str) -> int:
    query = (
        select(func.count(StaffSession.id))
        .join(StaffUser)
        .where(StaffUser.username == username, StaffSession.revoked_at.is_(None))
    )
    with rt.session() as db:
        return db.scalar(query) or 0


def assert_clear_503(response: object, caplog: pytest.LogCaptureFixture) -> None:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 503, body[:300]  # type: ignore[attr-defined]
    assert UNAVAILABLE in body and "Traceback" not in body
    lines = [r for r in caplog.records if r.name == "web.security" and r.levelno == logging.ERROR]
    assert len(lines) == 1 and "database unavailable" in lines[0].getMessage()


@pytest.mark.parametrize("outage", [read_only, database_down], ids=["read-only", "down"])
def test_login_while_the_database_cannot_write_shows_the_503_page_and_works_afterwards(
    live_app: Flask, committing_rt: Runtime, user: str, outage: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = live_app.test_client()
    with outage(committing_rt):  # type: ignore[operator]
        caplog.clear()
        assert_clear_503(login(client, user), caplog)
    assert open_sessions(committing_rt, user) == 0  # no half-open session
    response = login(client, user)
    assert response.status_code == 302 and open_sessions(committing_rt, user) == 1
    assert client.get("/").status_code == 200


def test_reading_pages_work_while_read_only_and_a_change_is_a_503_that_can_be_retried(
    live_app: Flask, committing_rt: Runtime, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    client: FlaskClient = live_app.test_client()
    assert login(client, user).status_code == 302
    with read_only(committing_rt):
        page = client.get("/")
        assert page.status_code == 200  # staff can still read while nothing can be written
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert token
        caplog.clear()
        assert_clear_503(client.post("/logout", data={"csrf_token": token[1]}), caplog)
    assert open_sessions(committing_rt, user) == 1  # the logout did not half-happen
    assert client.post("/logout", data={"csrf_token": token[1]}).status_code == 302
    assert open_sessions(committing_rt, user) == 0


def test_the_callback_answers_503_while_read_only_and_acts_once_afterwards(
    live_app: Flask, committing_rt: Runtime
) -> None:
    handler = install(live_app, CountingHandler())
    client = live_app.test_client()
    xml = text_xml(openid="oReadOnly", content="平安", msg_id=int(time.time()))
    with read_only(committing_rt):
        assert post(client, committing_rt, xml) == (503, "database unavailable")
    with committing_rt.session() as db:
        assert db.scalar(select(func.count(InboundRow.id))) == 0
    assert post(client, committing_rt, xml) == post(client, committing_rt, xml) == (200, "收到：平安")
    assert handler.calls == 1


def test_a_signed_in_page_while_the_database_is_down_is_a_503_not_a_traceback(
    live_app: Flask, committing_rt: Runtime, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    if committing_rt.engine.dialect.name == "sqlite":
        pytest.skip("a SQLite file is never away for readers; its outage (a held write lock) is tested above")
    client = live_app.test_client()
    assert login(client, user).status_code == 302
    with database_down(committing_rt):
        caplog.clear()
        assert_clear_503(client.get("/residents/"), caplog)
    assert client.get("/").status_code == 200 and open_sessions(committing_rt, user) == 1
