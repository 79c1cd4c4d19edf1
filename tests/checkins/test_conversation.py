"""The daily check-in through the real router and database: transcripts as data, and the odd days."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import (
    AuditEvent,
    CheckinStatus,
    ContactMethod,
    ConversationState,
    LeadPriority,
    WeChatIdentity,
)
from bot.runtime import Runtime
from tests.checkins.support import (
    DAY,
    bound_resident,
    chat,
    checkin_of,
    clock,
    job,
    leads_of,
    officer,
    outbox_keys,
    outbox_row,
    visits_of,
)
from tests.factories import make_identity

CASES: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "transcripts.toml").read_text(encoding="utf-8")
)["case"]


def _send(rt: Runtime, identity: WeChatIdentity, turn: dict[str, Any]) -> str:
    talk = chat(rt, identity)
    with clock(turn.get("at", "09:30")):
        if "voice" in turn:
            return talk.send(msg_type="voice", media_id="media-1", recognition=turn["voice"] or None)
        return talk.send(turn["send"])


def _check(db: Session, case: dict[str, Any], resident: Any) -> None:
    expect = case["expect"]
    checkin = checkin_of(db, resident)
    db.refresh(resident)
    simple = {
        "status": checkin.status,
        "health": checkin.health,
        "phone_reason": checkin.phone_list_reason,
        "return_plan": checkin.return_plan,
        "city": checkin.whereabouts_city,
        "abnormal": checkin.abnormal,
        "resident_city": resident.current_city,
        "resident_status": resident.status,
    }
    for key, actual in simple.items():
        if key in expect:
            assert actual == expect[key], f"{key}: {actual!r}"
    if "temperature" in expect:
        assert checkin.temperature == Decimal(expect["temperature"])
    if "return_date" in expect:
        assert checkin.return_date == date.fromisoformat(expect["return_date"])
    if "monitoring_end" in expect:
        assert resident.monitoring_end == date.fromisoformat(expect["monitoring_end"])
    leads = leads_of(db, resident)
    if "leads" in expect:
        assert [lead.priority for lead in leads] == [LeadPriority(p) for p in expect["leads"]]
    if "lead_cause" in expect:
        assert leads[0].cause_key == expect["lead_cause"].format(checkin=checkin.id, resident=resident.id)
    if "alert" in expect:
        assert bool(outbox_keys(db, "lead:")) == expect["alert"]
    if "visits" in expect:
        assert [v.method for v in visits_of(db, resident)] == [ContactMethod(m) for m in expect["visits"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_transcript(rt: Runtime, db: Session, case: dict[str, Any]) -> None:
    resident, identity = bound_resident(db, window_open=case.get("window", True))
    if case.get("officer_wecom"):
        officer(db, resident.station, "zhangjing")
    job(rt, "daily_checkin", "09:00")
    for turn in case["turn"]:
        reply = _send(rt, identity, turn)
        for text in turn.get("says", []):
            assert text in reply, f"{text!r} not in {reply!r}"
    _check(db, case, resident)


def test_the_alert_names_the_resident_masked_and_links_the_lead(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db, name="张三丰")
    officer(db, resident.station, "wang")
    officer(db, resident.station, "li")
    officer(db, resident.station)
    job(rt, "daily_checkin", "09:00")
    for text in ("3", "1", "没定"):
        _send(rt, identity, {"send": text})
    [lead] = leads_of(db, resident)
    row = outbox_row(db, f"lead:{lead.id}:notify")
    assert row.channel == "wecom_app" and row.recipient == "li|wang"
    content = row.payload["text"]["content"]
    assert "张*丰" in content and "张三丰" not in content and f"/leads/{lead.id}" in content
    assert lead.notified_at is not None and lead.title.startswith("张三丰")


def test_a_check_in_counts_once_whatever_arrives_twice(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    job(rt, "daily_checkin", "09:00")
    for text in ("2，38度", "1", "没定"):
        _send(rt, identity, {"send": text})
    for text in ("报平安", "2，39度", "1", "没定"):
        _send(rt, identity, {"send": text, "at": "10:00"})
    assert len(visits_of(db, resident)) == 1 and len(leads_of(db, resident)) == 1
    assert checkin_of(db, resident).temperature == Decimal("38.0")


def test_a_late_reply_after_the_day_closed_still_counts(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    job(rt, "daily_checkin", "09:00")
    job(rt, "checkin_close_day", "20:00")
    assert checkin_of(db, resident).phone_list_reason == "silent"
    first = _send(rt, identity, {"send": "1", "at": "21:30"})  # the prompt's conversation expired at 21:00
    assert "超时" in first and "第1问" in first
    for text in ("1", "1", "没定"):
        _send(rt, identity, {"send": text, "at": "21:31"})
    assert checkin_of(db, resident).status == CheckinStatus.ANSWERED


def test_a_stale_session_from_yesterday_restarts_politely(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    job(rt, "daily_checkin", "09:00")
    _send(rt, identity, {"send": "1"})  # then silence
    tomorrow = date(2020, 2, 16)
    with clock("08:00", tomorrow):
        reply = chat(rt, identity).send("1")
    assert "超时" in reply and "2月16日" in reply
    with clock("08:01", tomorrow):
        for text in ("1", "1", "没定"):
            chat(rt, identity).send(text)
    assert checkin_of(db, resident, tomorrow).status == CheckinStatus.ANSWERED
    assert checkin_of(db, resident, DAY).status == CheckinStatus.IN_PROGRESS
    summary = job(rt, "daily_checkin", "09:00", tomorrow)
    assert summary["already"] == 1 and not outbox_keys(db, f"checkin:{resident.id}:2020-02-16")


def test_an_unbound_user_is_asked_to_bind(rt: Runtime, db: Session) -> None:
    identity = make_identity(db)
    db.commit()
    with clock("09:30"):
        reply = chat(rt, identity).send("你好")
    assert "绑定前请您了解" in reply and "请回复您的姓名" in reply


def test_unsubscribing_mid_day_leaves_the_check_in_to_a_call(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    job(rt, "daily_checkin", "09:00")
    _send(rt, identity, {"send": "1"})
    with clock("10:00"):
        chat(rt, identity).send(msg_type="event", event="unsubscribe")
    assert db.scalar(select(ConversationState).where(ConversationState.identity_id == identity.id)) is None
    reminded = job(rt, "checkin_reminder", "15:00")
    assert reminded.get("oa_custom", 0) + reminded.get("oa_template", 0) == 0
    job(rt, "checkin_close_day", "20:00")
    checkin = checkin_of(db, resident)
    assert checkin.status == CheckinStatus.PHONE_LIST and checkin.phone_list_reason == "silent"


def test_unbind_asks_first_and_is_audited(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    with clock("09:30"):
        assert "确定要解除绑定吗" in chat(rt, identity).send("解绑")
        assert "已解除绑定" in chat(rt, identity).send("是")
    db.expire_all()
    assert db.get(WeChatIdentity, identity.id).resident_id is None  # type: ignore[union-attr]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "wechat.unbind"))
    assert event is not None and event.record_id == str(resident.id)
