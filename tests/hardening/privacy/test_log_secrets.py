"""No ID number, phone, access token or secret in any log line, through a whole working day.

Every logger (root at DEBUG, urllib3 and werkzeug included) is captured while the demo is loaded, a
resident binds and checks in through the signed, encrypted callback, prompts go through the real
channels to the local WeChat (tokens fetched), a send fails with an error, an officer records a phone
visit and a clerk exports an unmasked list; then every formatted record and traceback is scanned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import build_channels
from bot.clock import local_today
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer
from bot.jobs import run_job
from bot.models import Checkin, CheckinStatus, OutboxMessage, OutboxStatus, Role
from bot.runtime import Runtime
from bot.services import outbox, staff
from tests.delivery.support import at_fake, wechat_state
from tests.factories import make_identity, make_resident, make_station, make_user
from tests.hardening.privacy.support import hits, resident_identifiers, seed_demo
from tests.panel.support import csrf
from tests.wechat.support import WeChatUser
from web import create_app

OPENID = "oLanxiPrivacyLogs00000000001"
SILENT_OPENID = "oLanxiPrivacyLogs00000000002"


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # format() fills exc_text and appends it
        self.lines.append(record.exc_text or "")


@pytest.fixture()
def logs() -> Iterator[Collector]:
    root = logging.getLogger()
    noisy = [
        logging.getLogger(name) for name in ("urllib3", "urllib3.connectionpool", "werkzeug", "bot", "web")
    ]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in [root, *noisy]]
    collector = Collector()
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    for lg in noisy:
        lg.setLevel(logging.DEBUG)
        lg.propagate, lg.disabled = True, False
    yield collector
    root.removeHandler(collector)
    for lg, level, propagate, disabled in saved:
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled


@pytest.fixture()
def fake() -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(wechat_state()) as server:
        yield server


def _issued_tokens(fake: FakeWeChatServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    issued: list[str] = []
    real = fake.state.tokens.issue

    def recording(*args: Any, **kw: Any) -> Any:
        token = real(*args, **kw)
        issued.append(token.value)
        return token

    monkeypatch.setattr(fake.state.tokens, "issue", recording)
    return issued


def _secrets(rt: Runtime) -> set[str]:
    s = rt.settings
    return {
        s.wechat.app_secret,
        s.wechat.token,
        s.wechat.encoding_aes_key,
        s.wecom.secret,
        s.wecom.token,
        s.wecom.encoding_aes_key,
        s.privacy.encryption_key,
        s.web.secret_key,
    }


def _deliver(rt: Runtime) -> None:
    drain(rt, build_channels(rt), RateGate())


def test_no_identifier_token_or_secret_in_any_log_line(
    rt: Runtime, db: Session, fake: FakeWeChatServer, logs: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = _issued_tokens(fake, monkeypatch)
    crt = at_fake(rt, fake.url)
    today = local_today(rt.settings.tz)
    seed_demo(db, rt.settings)
    station = make_station(db, "隐私派出所", "隐私镇")
    person = make_resident(db, station, name="赵隐私", phone="13655501234")
    silent = make_resident(db, station, name="钱无声", phone="13655505678")
    make_identity(db, silent, openid=SILENT_OPENID)
    officer = make_user(db, Role.STATION_OFFICER, station)
    clerk = make_user(db, Role.ADMIN)
    db.commit()
    app = create_app(runtime=crt)
    app.config.update(TESTING=True)

    # A resident binds and checks in through the real callback protocol.
    user = WeChatUser(app.test_client(), crt, fake, OPENID)
    assert "绑定前请您了解" in user.send("绑定")
    user.send("赵隐私")
    assert "绑定成功" in user.send(person.id_number[-6:])  # type: ignore[index]
    run_job(crt, "daily_checkin")
    _deliver(crt)
    assert fake.state.delivered("custom", OPENID)
    user.send("1")
    user.send("没变")
    user.send("没定")

    # The token invalidated mid-run (fetched again), then a send that fails for good with WeChat's error.
    fake.state.invalidate_tokens()
    _send(db, "privacy-logs-ok", OPENID)
    _deliver(crt)
    assert len(tokens) >= 2
    fake.state.inject_fault("message/custom/send", errcode=40003)
    failed = _send(db, "privacy-logs-fail", SILENT_OPENID)
    _deliver(crt)
    row = db.get(OutboxMessage, failed)
    assert row is not None and row.status == OutboxStatus.FAILED and row.last_error

    # The officer records a phone visit; an admin exports the non-responders unmasked.
    checkin = db.scalars(select(Checkin).where(Checkin.resident_id == silent.id, Checkin.day == today)).one()
    checkin.status, checkin.phone_list_reason = CheckinStatus.PHONE_LIST, "silent"
    db.commit()
    panel = app.test_client()
    _sign_in(panel, db, officer)
    list_url = f"/checkins/phone-list?day={today.isoformat()}"
    answer = panel.post(
        f"/checkins/calls/{checkin.id}?day={today.isoformat()}",
        data={
            "csrf_token": csrf(panel, list_url),
            "outcome": "reached",
            "health": "normal",
            "whereabouts": "unchanged",
        },
    )
    assert answer.status_code in (200, 302)
    clerk_client = app.test_client()
    _sign_in(clerk_client, db, clerk)
    url = "/checkins/lists/non_responders"
    export = clerk_client.post(
        f"{url}/export",
        data={"csrf_token": csrf(clerk_client, url), "unmasked": "y", "reason": "核对名单"},
    )
    assert export.status_code == 200

    needles = resident_identifiers(db) | set(tokens) | _secrets(rt)
    assert len(logs.lines) > 20  # the scan really saw the day's logging, urllib3's requests included
    assert any("access_token=***" in line for line in logs.lines)
    assert hits("\n".join(logs.lines), needles) == []


def _send(db: Session, key: str, openid: str) -> int:
    payload = {"msgtype": "text", "text": {"content": "您好"}}
    row = outbox.enqueue(db, key=key, channel="oa_custom", recipient=openid, payload=payload)
    db.commit()
    return row.id


def _sign_in(client: Any, db: Session, user: Any) -> None:
    token = staff.open_session(db, user, ip="127.0.0.1", user_agent="tests")
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
