"""The tipster is hidden from stations evidence exports are audited, binding shows the notice."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Role
from bot.runtime import Runtime
from bot.services import staff
from bot.services.audit import SYSTEM
from tests.factories import login, make_user
from tests.tips.support import Chat
from tests.tips.test_tip_leads import assert_no_reporter, lead_for


def test_station_sees_a_tip_lead_without_its_reporters(rt: Runtime, client: FlaskClient, db: Session) -> None:
    lead, tips = lead_for(rt, db)
    officer = make_user(db, Role.STATION_OFFICER, jurisdiction=lead.station)
    token = staff.create_api_token(db, SYSTEM, officer, "tests")
    db.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    answer = client.get("/api/v1/leads?source=tip", headers=bearer)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert [item["id"] for item in answer.get_json()["items"]] == [lead.id]
    assert_no_reporter(body, tips)
    assert "reporter" not in body
    assert client.get("/api/v1/tips", headers=bearer).status_code == 403
    assert client.get(f"/api/v1/tips?cluster_id={lead.cluster_id}", headers=bearer).status_code == 403
    login(client, officer.username)
    assert_no_reporter(client.get(f"/leads/{lead.id}").get_data(as_text=True), tips)


def test_evidence_export_is_audited(rt: Runtime, client: FlaskClient, db: Session) -> None:
    lead, _ = lead_for(rt, db)
    police = make_user(db, Role.CYBER_POLICE)
    db.commit()
    login(client, police.username)
    page = client.get(f"/tips/clusters/{lead.cluster_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    before = db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "tips.export"))
    answer = client.post(f"/tips/clusters/{lead.cluster_id}/export", data={"csrf_token": token[1]})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "tips.export")))
    assert len(events) == (before or 0) + 1
    assert events[-1].actor_id == police.id and events[-1].record_id == str(lead.cluster_id)


def test_the_first_reply_of_binding_is_the_privacy_notice(rt: Runtime, db: Session) -> None:
    first = Chat(rt, "oLanxiNoticeReader0000001").send("绑定")
    assert first.startswith("绑定前请您了解")
    for part in (
        "收集什么",
        "个人信息保护法第十三条",
        f"{rt.settings.privacy.retention_days}天内删除",
        "谁能看到",
    ):
        assert part in first
