"""The resident page: one timeline, reveal (audited), edit with a reason, transfer, jurisdiction walls."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy
from bot.models import (
    Checkin,
    CheckinStatus,
    ContactMethod,
    Health,
    Lead,
    LeadStatus,
    OutboxMessage,
    OutboxStatus,
    Resident,
    Role,
)
from bot.runtime import Runtime
from bot.services import audit, resident_changes, timeline
from bot.services.audit import Actor
from bot.services.scope import COUNTY, Scope
from tests.factories import (
    make_checkin,
    make_identity,
    make_inbound,
    make_lead,
    make_resident,
    make_station,
    make_visit,
)
from tests.panel.support import audit_events, csrf, signed_in, today

ACTOR = Actor(None, "clerk-test")


@pytest.fixture()
def person(db: Session, rt: Runtime) -> dict[str, Any]:
    north, south = make_station(db, "北派出所测试", "北镇测试"), make_station(db, "南派出所测试", "南乡测试")
    resident = make_resident(db, north, name="刘测试", phone="13811112222")
    other = make_resident(db, south, name="陈外所")
    day = today(rt)
    make_checkin(db, resident, day, status=CheckinStatus.PHONE_LIST, phone_list_reason="silent")
    make_checkin(
        db,
        resident,
        day - timedelta(days=1),
        status=CheckinStatus.ANSWERED,
        health=Health.FEVER,
        abnormal=True,
        answered_at=datetime.now(UTC) - timedelta(days=1),
    )
    make_visit(db, resident, day, method=ContactMethod.PHONE, note="已电话联系，身体正常")
    identity = make_identity(db, resident)
    make_inbound(db, identity, "我的身份证是 231222198005170014")
    db.add(
        OutboxMessage(
            idempotency_key="panel:test:1",
            channel="oa_custom",
            rate_key="oa",
            recipient=identity.openid,
            payload={"msgtype": "text", "text": {"content": "您好，请回复今日健康状况。"}},
            status=OutboxStatus.SENT,
        )
    )
    make_lead(db, north, title="发热核查", resident_id=resident.id, due_date=day)
    db.commit()
    return {"north": north, "south": south, "resident": resident, "other": other, "identity": identity}


def test_timeline_merges_every_source_newest_first(db: Session, rt: Runtime, person: dict[str, Any]) -> None:
    resident = person["resident"]
    audit.record(db, ACTOR, "resident.view", record_type="resident", record_id=resident.id)
    resident_changes.edit(db, ACTOR, resident, {"current_city": "大庆"}, "本人电话告知", today=today(rt))
    events = timeline.for_resident(db, resident, rt.settings.tz)
    kinds = {e.kind for e in events}
    assert kinds == {"checkin", "visit", "inbound", "outbound", "lead", "change"}
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    inbound = next(e for e in events if e.kind == "inbound")
    assert "231222********0014" in inbound.detail and "198005170014" not in inbound.detail
    change = next(e for e in events if e.kind == "change")
    assert "现居城市：哈尔滨 → 大庆" in change.detail and change.actor == "clerk-test"
    assert not any("查看" in e.title for e in events)  # page views stay in the audit log
    fever = next(e for e in events if e.kind == "checkin" and e.tone == "bad")
    assert "发热" in fever.detail


def test_page_shows_masked_identifiers_and_logs_the_view(
    client: FlaskClient, db: Session, person: dict[str, Any]
) -> None:
    signed_in(client, db, Role.DATA_CLERK)
    resident = person["resident"]
    page = client.get(f"/residents/{resident.id}").get_data(as_text=True)
    assert "138****2222" in page and "13811112222" not in page
    assert resident.id_number not in page
    assert "时间线" in page and "发热核查" in page and "您好，请回复今日健康状况。" in page
    assert [e.record_id for e in audit_events(db, "resident.view")] == [str(resident.id)]


def test_reveal_is_a_post_shows_one_value_and_is_audited(
    client: FlaskClient, db: Session, person: dict[str, Any]
) -> None:
    user = signed_in(client, db, Role.STATION_OFFICER, person["north"])
    resident = person["resident"]
    url = f"/residents/{resident.id}/reveal"
    token = csrf(client, f"/residents/{resident.id}")
    assert client.get(url).status_code == 405
    shown = client.post(
        url, data={"csrf_token": token, "field": "phone"}, headers={"Accept": "application/json"}
    )
    assert shown.json == {"field": "phone", "value": "13811112222"}
    assert shown.headers["Cache-Control"] == "no-store"
    page = client.post(url, data={"csrf_token": token, "field": "id_number"}).get_data(as_text=True)
    assert resident.id_number in page and "13811112222" not in page  # only the one asked for
    assert client.post(url, data={"csrf_token": token, "field": "name"}).status_code == 400
    events = audit_events(db, "pii.reveal")
    assert [(e.actor_id, e.detail["field"]) for e in events] == [(user.id, "phone"), (user.id, "id_number")]
    assert all(resident.id_number not in str(e.detail) for e in events)


def test_reveal_needs_the_permission_and_the_jurisdiction(
    app: Any, db: Session, person: dict[str, Any]
) -> None:
    leader = app.test_client()
    signed_in(leader, db, Role.LEADER)  # may view, may not reveal
    resident, other = person["resident"], person["other"]
    token = csrf(leader, f"/residents/{resident.id}")
    assert "显示" not in leader.get(f"/residents/{resident.id}").get_data(as_text=True).split("时间线")[0]
    assert (
        leader.post(
            f"/residents/{resident.id}/reveal", data={"csrf_token": token, "field": "phone"}
        ).status_code
        == 403
    )
    officer = app.test_client()
    signed_in(officer, db, Role.STATION_OFFICER, person["north"])
    token = csrf(officer, f"/residents/{resident.id}")
    for url in (f"/residents/{other.id}", f"/residents/{other.id}/edit", f"/residents/{other.id}/transfer"):
        assert officer.get(url).status_code in (403, 404)
    assert officer.get(f"/residents/{other.id}").status_code == 404
    refused = officer.post(f"/residents/{other.id}/reveal", data={"csrf_token": token, "field": "phone"})
    assert refused.status_code == 404
    assert audit_events(db, "pii.reveal") == []


def test_edit_needs_a_reason_and_audits_masked_changes(
    client: FlaskClient, db: Session, rt: Runtime, person: dict[str, Any]
) -> None:
    signed_in(client, db, Role.DATA_CLERK)
    resident = person["resident"]
    url = f"/residents/{resident.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert "13811112222" not in form and resident.id_number not in form  # never pre-filled in clear
    assert 'placeholder="138****2222' in form
    token = csrf(client, url)
    data = {
        "csrf_token": token,
        "name": "刘测试",
        "phone": "13900001234",
        "status": "away",
        "current_city": "绥化",
        "reason": "",
    }
    assert "请填写理由" in client.post(url, data=data).get_data(as_text=True)
    done = client.post(url, data={**data, "reason": "本人来电更正"})
    assert done.status_code == 302
    db.expire_all()
    changed = db.get(Resident, resident.id)
    assert changed is not None and changed.phone == "13900001234" and changed.current_city == "绥化"
    assert changed.phone_hash == privacy.vault().blind_index("13900001234", kind="phone")
    assert changed.id_number == resident.id_number  # left empty: kept
    (event,) = audit_events(db, "resident.edit")
    assert event.detail["changes"]["phone"] == ["138****2222", "139****1234"]
    assert event.detail["changes"]["current_city"] == ["哈尔滨", "绥化"]
    assert event.detail["reason"] == "本人来电更正"
    assert "13900001234" not in str(event.detail)


def test_edit_refuses_bad_values_and_duplicate_id_numbers(
    db: Session, rt: Runtime, person: dict[str, Any]
) -> None:
    resident, other = person["resident"], person["other"]
    with pytest.raises(resident_changes.ResidentChangeError, match="理由"):
        resident_changes.edit(db, ACTOR, resident, {"current_city": "大庆"}, "改", today=today(rt))
    with pytest.raises(resident_changes.ResidentChangeError, match="手机号"):
        resident_changes.edit(db, ACTOR, resident, {"phone": "12345"}, "电话有误", today=today(rt))
    with pytest.raises(resident_changes.ResidentChangeError, match="另一人员"):
        resident_changes.edit(
            db, ACTOR, resident, {"id_number": other.id_number}, "身份证号有误", today=today(rt)
        )
    with pytest.raises(resident_changes.ResidentChangeError, match="没有修改"):
        resident_changes.edit(db, ACTOR, resident, {"current_city": "哈尔滨"}, "核对无误", today=today(rt))
    with pytest.raises(resident_changes.ResidentChangeError, match="返乡日期"):
        resident_changes.edit(db, ACTOR, resident, {"status": "monitoring"}, "已经返乡", today=today(rt))
    with pytest.raises(resident_changes.ResidentChangeError, match="不能修改"):
        resident_changes.edit(db, ACTOR, resident, {"station_id": 1}, "换个派出所", today=today(rt))


def test_transfer_moves_todays_work_and_is_audited(
    client: FlaskClient, db: Session, rt: Runtime, person: dict[str, Any]
) -> None:
    signed_in(client, db, Role.DATA_CLERK)
    resident, south = person["resident"], person["south"]
    url = f"/residents/{resident.id}/transfer"
    page = client.get(url).get_data(as_text=True)
    assert "南派出所测试" in page and re.search(r"<option[^>]*>北派出所测试", page) is None
    token = csrf(client, url)
    assert "请填写理由" in client.post(url, data={"csrf_token": token, "station_id": south.id}).get_data(
        as_text=True
    )
    done = client.post(url, data={"csrf_token": token, "station_id": south.id, "reason": "已搬至南乡居住"})
    assert done.status_code == 302
    db.expire_all()
    moved = db.get(Resident, resident.id)
    assert moved is not None and moved.station_id == south.id and moved.township_id == south.parent_id
    stations = dict(
        db.execute(select(Checkin.day, Checkin.station_id).where(Checkin.resident_id == resident.id)).all()
    )
    assert stations[today(rt)] == south.id  # today's check-in follows the resident
    assert stations[today(rt) - timedelta(days=1)] == person["north"].id  # history stays where it was counted
    lead = db.scalar(select(Lead).where(Lead.resident_id == resident.id))
    assert lead is not None and lead.station_id == south.id and lead.status == LeadStatus.OPEN
    (event,) = audit_events(db, "resident.transfer")
    assert event.detail["changes"]["station"] == ["北派出所测试", "南派出所测试"]


def test_transfer_only_within_scope(db: Session, rt: Runtime, person: dict[str, Any]) -> None:
    resident = person["resident"]
    north_only = Scope(frozenset({person["north"].id}))
    with pytest.raises(resident_changes.ResidentChangeError, match="辖区"):
        resident_changes.transfer(
            db, ACTOR, north_only, resident, person["south"].id, "已搬家居住", today=today(rt)
        )
    with pytest.raises(resident_changes.ResidentChangeError, match="已属于"):
        resident_changes.transfer(
            db, ACTOR, COUNTY, resident, person["north"].id, "已搬家居住", today=today(rt)
        )
    with pytest.raises(resident_changes.ResidentChangeError, match="辖区"):
        resident_changes.transfer(
            db, ACTOR, COUNTY, resident, person["north"].parent_id, "已搬家居住", today=today(rt)
        )


def test_roles_that_may_not_edit_get_403(client: FlaskClient, db: Session, person: dict[str, Any]) -> None:
    signed_in(client, db, Role.STATION_OFFICER, person["north"])
    resident = person["resident"]
    assert client.get(f"/residents/{resident.id}/edit").status_code == 403
    assert client.get(f"/residents/{resident.id}/transfer").status_code == 403
    assert "修改信息" not in client.get(f"/residents/{resident.id}").get_data(as_text=True)
