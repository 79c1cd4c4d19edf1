"""The JSON API: bearer tokens, roles, jurisdiction scopes, pagination, errors, audit of PII reads."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.models import AuditEvent, CheckinStatus, Jurisdiction, LeadSource, LeadStatus, Role, StaffUser
from bot.runtime import Runtime
from bot.services import reports, staff
from bot.services.audit import SYSTEM
from tests.factories import make_checkin, make_lead, make_resident, make_station, make_user
from tests.reports.scenario import DAY, NOW, TZ, build


def _token(db: Session, role: Role, jurisdiction: Jurisdiction | None = None) -> tuple[StaffUser, str]:
    user = make_user(db, role, jurisdiction)
    token = staff.create_api_token(db, SYSTEM, user, "tests")
    db.commit()
    return user, token


def _get(client: FlaskClient, url: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(url, headers=headers)
    assert response.mimetype == "application/json", url
    return response.status_code, response.get_json()


def test_no_token_a_bad_token_and_a_revoked_token_are_401(client: FlaskClient, db: Session) -> None:
    user, token = _token(db, Role.ADMIN)
    status, body = _get(client, "/api/v1/residents", None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/residents").headers["WWW-Authenticate"].startswith("Bearer")
    assert _get(client, "/api/v1/residents", "lx_not-a-token")[0] == 401
    assert client.get("/api/v1/residents", headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert _get(client, "/api/v1/residents", token)[0] == 200
    staff.revoke_api_tokens(db, SYSTEM, user)
    db.commit()
    assert _get(client, "/api/v1/residents", token)[0] == 401
    disabled, other = _token(db, Role.ADMIN)
    staff.set_active(db, SYSTEM, disabled, False)
    db.commit()
    assert _get(client, "/api/v1/residents", other)[0] == 401  # disabled account


def test_a_panel_session_cookie_does_not_authenticate_the_api(client: FlaskClient, db: Session) -> None:
    from tests.factories import login

    user = make_user(db, Role.ADMIN)
    db.commit()
    assert login(client, user.username).status_code == 302
    assert client.get("/").status_code == 200  # signed in to the panel
    assert client.get("/api/v1/residents").status_code == 401


def test_roles_are_those_of_the_panel(client: FlaskClient, db: Session) -> None:
    _, propaganda = _token(db, Role.PROPAGANDA)
    status, body = _get(client, "/api/v1/residents", propaganda)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert _get(client, "/api/v1/advisories", propaganda)[0] == 200
    _, leader = _token(db, Role.LEADER)
    assert _get(client, "/api/v1/tips", leader)[0] == 403  # tips: cyber police and admins only
    assert _get(client, "/api/v1/tip-clusters", leader)[0] == 403
    _, cyber = _token(db, Role.CYBER_POLICE)
    assert _get(client, "/api/v1/tips", cyber)[0] == 200
    assert _get(client, "/api/v1/residents", cyber)[0] == 403
    officer_station = make_station(db)
    _, officer = _token(db, Role.STATION_OFFICER, officer_station)
    assert _get(client, "/api/v1/reports", officer)[0] == 403
    _, township_clerk = _token(db, Role.DATA_CLERK, officer_station.parent)
    assert _get(client, "/api/v1/reports", township_clerk)[0] == 403  # county-wide report


def test_station_officer_sees_only_their_station_and_other_records_are_404(
    client: FlaskClient, db: Session
) -> None:
    mine, theirs = make_station(db), make_station(db)
    own, other = make_resident(db, mine), make_resident(db, theirs)
    make_checkin(db, own, DAY, status=CheckinStatus.ANSWERED)
    make_checkin(db, other, DAY, status=CheckinStatus.ANSWERED)
    make_lead(db, mine)
    make_lead(db, theirs)
    _, token = _token(db, Role.STATION_OFFICER, mine)
    status, body = _get(client, f"/api/v1/residents/{other.id}", token)
    assert status == 404 and body == {
        "error": {"code": "not_found", "message": "资源不存在，或不在您的辖区内"}
    }
    assert _get(client, "/api/v1/residents/2147483000", token)[0] == 404
    status, body = _get(client, f"/api/v1/residents/{own.id}", token)
    assert status == 200 and body["id"] == own.id
    assert [r["id"] for r in _get(client, "/api/v1/residents", token)[1]["items"]] == [own.id]
    checkins = _get(client, f"/api/v1/checkins?date={DAY.isoformat()}", token)[1]
    assert [c["resident_id"] for c in checkins["items"]] == [own.id]
    assert {lead["station_id"] for lead in _get(client, "/api/v1/leads", token)[1]["items"]} == {mine.id}
    stats = _get(client, f"/api/v1/stats?date={DAY.isoformat()}", token)[1]
    assert [s["id"] for s in stats["stations"]] == [mine.id] and stats["total"]["expected"] == 1


def test_residents_are_masked_and_reads_are_audited(client: FlaskClient, db: Session) -> None:
    resident = make_resident(db, id_number="231222198005170011", phone="13912345678")
    user, token = _token(db, Role.DATA_CLERK)
    body = _get(client, f"/api/v1/residents/{resident.id}", token)[1]
    assert (body["id_number_masked"], body["phone_masked"]) == ("231222********0011", "139****5678")
    raw = client.get("/api/v1/residents", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert "13912345678" not in raw and "231222198005170011" not in raw
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.detail.get("via")) for e in events] == [
        ("resident.view", "api"),
        ("resident.list", "api"),
    ]
    assert events[0].record_id == str(resident.id) and resident.id in events[1].detail["ids"]


def test_pagination_and_bad_parameters(client: FlaskClient, db: Session) -> None:
    station = make_station(db)
    made = [make_resident(db, station) for _ in range(5)]
    _, token = _token(db, Role.ADMIN)
    status, body = _get(client, "/api/v1/residents?per_page=2&page=2", token)
    assert status == 200 and (body["total"], body["page"], body["per_page"]) == (5, 2, 2)
    assert [r["id"] for r in body["items"]] == [made[2].id, made[3].id]
    assert _get(client, "/api/v1/residents?page=9", token)[1]["items"] == []
    for bad in ("page=0", "page=x", "per_page=201", "per_page=-1", "page=1e3"):
        status, body = _get(client, f"/api/v1/residents?{bad}", token)
        assert status == 400 and body["error"]["code"] == "bad_request", bad
    for url in (
        "/api/v1/checkins?date=2020-02-30",
        "/api/v1/checkins?date=20200215",
        "/api/v1/leads?source=phone",
        "/api/v1/leads?status=",
        "/api/v1/tip-clusters?status=fake",
        "/api/v1/residents/0",
        f"/api/v1/residents?q={'长' * 33}",
    ):
        assert _get(client, url, token)[0] == 400, url
    assert _get(client, "/api/v1/residents/abc", token)[0] == 404
    assert _get(client, "/api/v1/stats?date=1999-12-31", token)[0] == 404
    assert _get(client, "/api/v1/nothing-here", token)[0] == 404


def test_lead_filters(client: FlaskClient, db: Session) -> None:
    station = make_station(db)
    make_lead(db, station, source=LeadSource.TIP, status=LeadStatus.DONE)
    make_lead(db, station, source=LeadSource.CHECKIN)
    _, token = _token(db, Role.ADMIN)
    body = _get(client, "/api/v1/leads?source=tip", token)[1]
    assert [lead["source"] for lead in body["items"]] == ["tip"]
    assert _get(client, "/api/v1/leads?source=checkin&status=done", token)[1]["total"] == 0


def test_reports_tips_and_advisories(client: FlaskClient, db: Session) -> None:
    build(db)
    reports.draft(db, DAY, tz=TZ, now=NOW)
    _, token = _token(db, Role.ADMIN)
    listing = _get(client, "/api/v1/reports", token)[1]
    assert listing["items"][0]["day"] == DAY.isoformat() and listing["items"][0]["status"] == "draft"
    body = _get(client, f"/api/v1/reports/{DAY.isoformat()}", token)[1]
    assert body["figures"]["total"]["expected"] == 7 and body["history"] == []
    assert _get(client, "/api/v1/reports/2019-01-01", token)[0] == 404
    assert _get(client, "/api/v1/reports/yesterday", token)[0] == 400
    tips = _get(client, "/api/v1/tips", token)[1]
    assert tips["total"] == 3
    assert not {"reporter_hash", "reporter_contact", "reporter_identity_id"} & set(tips["items"][0])
    advisory = _get(client, "/api/v1/advisories", token)[1]["items"][0]
    deliveries = _get(client, f"/api/v1/advisories/{advisory['id']}/deliveries", token)[1]
    assert deliveries["total"] == 3
    assert {d["status"] for d in deliveries["items"]} == {"sent", "failed", "forwarded"}
    assert _get(client, "/api/v1/advisories/999999/deliveries", token)[0] == 404


@pytest.mark.parametrize("path", ["/api/v1/residents", "/api/v1/openapi.json"])
def test_answers_are_not_cached(client: FlaskClient, db: Session, path: str) -> None:
    _, token = _token(db, Role.ADMIN)
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.headers["Cache-Control"] == "no-store"


def test_day_default_is_today(client: FlaskClient, db: Session, rt: Runtime) -> None:
    _, token = _token(db, Role.ADMIN)
    body = _get(client, "/api/v1/stats", token)[1]
    assert body["day"] == local_today(rt.settings.tz).isoformat()
