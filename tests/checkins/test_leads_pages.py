"""The leads pages: scoped list with filters and overdue first, a lead's page, start and outcome."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.models import AuditEvent, LeadPriority, LeadSource, LeadStatus, Role
from bot.runtime import Runtime
from tests.checkins.support import csrf_of, officer
from tests.factories import login, make_lead, make_station, make_user


def today(rt: Runtime) -> date:
    return local_today(rt.settings.tz)


def test_an_officer_sees_their_station_s_leads_overdue_and_urgent_first(
    client: FlaskClient, db: Session, rt: Runtime
) -> None:
    mine, other = make_station(db), make_station(db)
    make_lead(db, mine, title="一般线索", due_date=today(rt) + timedelta(days=2))
    make_lead(db, mine, title="超期线索", due_date=today(rt) - timedelta(days=1))
    make_lead(db, mine, title="紧急线索", priority=LeadPriority.HIGH, due_date=today(rt))
    make_lead(db, mine, title="已办结线索", status=LeadStatus.DONE, due_date=today(rt) - timedelta(days=3))
    make_lead(db, other, title="别所线索")
    login(client, officer(db, mine).username)
    html = client.get("/leads/").get_data(as_text=True)
    titles = re.findall(r'<a href="/leads/\d+">([^<]+)</a>', html)
    assert titles == ["超期线索", "紧急线索", "一般线索"]
    assert html.count("lead-overdue") == 1 and "已超期" in html
    done = client.get("/leads/?status=done").get_data(as_text=True)
    assert "已办结线索" in done and "已超期" not in done
    urgent = client.get("/leads/?priority=high").get_data(as_text=True)
    assert "紧急线索" in urgent and "一般线索" not in urgent


def test_county_roles_and_cyber_police_see_every_station(client: FlaskClient, db: Session) -> None:
    make_lead(db, make_station(db), title="甲所线索")
    make_lead(db, make_station(db), title="乙所线索", source=LeadSource.TIP)
    login(client, make_user(db, Role.CYBER_POLICE).username)
    html = client.get("/leads/").get_data(as_text=True)
    assert "甲所线索" in html and "乙所线索" in html
    tips_only = client.get("/leads/?source=tip").get_data(as_text=True)
    assert "乙所线索" in tips_only and "甲所线索" not in tips_only


def test_another_station_s_lead_answers_404(client: FlaskClient, db: Session) -> None:
    mine, other = make_station(db), make_station(db)
    lead = make_lead(db, other)
    login(client, officer(db, mine).username)
    assert client.get(f"/leads/{lead.id}").status_code == 404


def test_start_then_record_the_outcome(client: FlaskClient, db: Session) -> None:
    station = make_station(db)
    lead = make_lead(db, station, title="发热线索", detail="体温 38.5℃", priority=LeadPriority.HIGH)
    login(client, officer(db, station).username)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "体温 38.5℃" in page and "开始处理" in page and "已送医就诊" in page
    client.post(f"/leads/{lead.id}/start", data={"csrf_token": csrf_of(page)})
    db.refresh(lead)
    assert lead.status == LeadStatus.IN_PROGRESS
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    missing = client.post(f"/leads/{lead.id}/outcome", data={"csrf_token": csrf_of(page), "outcome": "乱填"})
    assert missing.status_code == 400
    client.post(
        f"/leads/{lead.id}/outcome",
        data={"csrf_token": csrf_of(page), "outcome": "已送医就诊", "note": "已送县医院"},
    )
    db.refresh(lead)
    assert (lead.status, lead.outcome, lead.outcome_note) == (LeadStatus.DONE, "已送医就诊", "已送县医院")
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "lead")))
    assert {"lead.start", "lead.outcome"} <= actions
    assert "办结时间" in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_viewers_without_work_permission_cannot_change_a_lead(client: FlaskClient, db: Session) -> None:
    lead = make_lead(db, make_station(db))
    login(client, make_user(db, Role.LEADER).username)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "开始处理" not in page
    assert client.post(f"/leads/{lead.id}/start", data={"csrf_token": csrf_of(page)}).status_code == 403


def test_a_tip_lead_never_shows_the_reporter(client: FlaskClient, db: Session, rt: Runtime) -> None:
    from tests.factories import make_tip

    tip = make_tip(db, rt.settings, "听说城关镇封路了，大家快囤货", reporter="10.9.8.7")
    station = make_station(db)
    lead = make_lead(db, station, source=LeadSource.TIP, cluster_id=tip.cluster_id, title="谣言线索")
    login(client, officer(db, station).username)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "谣言线索" in page and "10.9.8.7" not in page and tip.reporter_hash not in page
