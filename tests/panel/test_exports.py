"""Exports: masked by default, unmasked only for allowed roles with a reason, always audited, formula-safe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.models import CheckinStatus, Role
from bot.runtime import Runtime
from bot.services import exports, linelists
from bot.services.audit import Actor
from bot.services.scope import COUNTY
from tests.factories import make_checkin, make_resident, make_station
from tests.panel.support import audit_events, csrf, sheet_rows, signed_in, today
from web.linelists import XLSX

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2020, 2, 15, 4, 0, tzinfo=UTC)
CLERK = Actor(None, "clerk-test")


@pytest.fixture()
def silent_people(db: Session, rt: Runtime) -> dict[str, Any]:
    station = make_station(db, "城关派出所测试")
    people = [
        make_resident(db, station, name="张三", phone="13912345678"),
        make_resident(db, station, name='=HYPERLINK("http://evil")', current_city="+cmd|' /C calc'!A0"),
        make_resident(db, station, name="@SUM(1)", current_city="-2+3", household_address="\tx"),
    ]
    for person in people:
        make_checkin(db, person, today(rt), status=CheckinStatus.PROMPTED)
    db.commit()
    return {"station": station, "people": people}


def _export(db: Session, rt: Runtime, **kw: Any) -> exports.ExportFile:
    spec = linelists.LISTS["non_responders"]
    query = linelists.ListQuery(day=today(rt))
    return exports.export_list(db, CLERK, COUNTY, spec, query, tz=TZ, now=NOW, **kw)


def test_masked_by_default_with_notes_and_audit(
    db: Session, rt: Runtime, silent_people: dict[str, Any]
) -> None:
    file = _export(db, rt)
    rows = sheet_rows(file.content)
    assert rows[0][:3] == ("姓名", "手机号", "身份证号") and len(rows) == 4
    zhang = next(r for r in rows if r[0] == "张三")
    assert zhang[1] == "139****5678"
    person = silent_people["people"][0]
    assert zhang[2] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert file.masked and file.filename.endswith("-脱敏.xlsx")
    (event,) = audit_events(db, "export")
    assert event.actor_label == "clerk-test" and event.record_id == "non_responders"
    assert event.detail["rows"] == 3 and event.detail["masked"] is True
    assert event.detail["filters"]["day"] == today(rt).isoformat()


def test_formula_cells_are_neutralised(db: Session, rt: Runtime, silent_people: dict[str, Any]) -> None:
    rows = sheet_rows(_export(db, rt).content)
    cells = [str(c) for row in rows[1:] for c in row if isinstance(c, str)]
    hostile = [c for c in cells if c.lstrip("'")[:1] in ("=", "+", "-", "@", "\t")]
    assert hostile and all(c.startswith("'") for c in hostile)
    assert '\'=HYPERLINK("http://evil")' in cells and "'+cmd|' /C calc'!A0" in cells and "'-2+3" in cells


def test_unmasked_needs_permission_and_a_reason(
    db: Session, rt: Runtime, silent_people: dict[str, Any]
) -> None:
    with pytest.raises(exports.ExportError, match="无权"):
        _export(db, rt, unmasked=True, may_unmask=False, reason="上级要求核对")
    with pytest.raises(exports.ExportError, match="理由"):
        _export(db, rt, unmasked=True, may_unmask=True, reason="  ")
    assert audit_events(db, "export") == []  # refused exports leave nothing
    file = _export(db, rt, unmasked=True, may_unmask=True, reason="县指挥部核对 13912345678 名单")
    zhang = next(r for r in sheet_rows(file.content) if r[0] == "张三")
    assert zhang[1] == "13912345678" and not file.masked
    (event,) = audit_events(db, "export")
    assert event.detail["masked"] is False
    assert event.detail["reason"] == "县指挥部核对 139****5678 名单"  # never a number in clear


def test_export_over_http_is_a_post_with_csrf(
    client: FlaskClient, db: Session, rt: Runtime, silent_people: dict[str, Any]
) -> None:
    signed_in(client, db, Role.DATA_CLERK)
    url = "/checkins/lists/non_responders"
    token = csrf(client, url)
    assert client.get(f"{url}/export").status_code == 405
    assert client.post(f"{url}/export", data={"day": today(rt).isoformat()}).status_code == 400  # no CSRF
    response = client.post(f"{url}/export", data={"csrf_token": token, "day": today(rt).isoformat()})
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert sheet_rows(response.data)[1][1].count("*") == 4
    unmasked = client.post(
        f"{url}/export", data={"csrf_token": token, "unmasked": "y", "reason": "核对返乡人员名单"}
    )
    assert unmasked.status_code == 200
    assert any(row[1] == "13912345678" for row in sheet_rows(unmasked.data))


def test_station_officer_cannot_unmask(
    client: FlaskClient, db: Session, rt: Runtime, silent_people: dict[str, Any]
) -> None:
    signed_in(client, db, Role.STATION_OFFICER, silent_people["station"])
    url = "/checkins/lists/non_responders"
    token = csrf(client, url)
    page = client.get(url).get_data(as_text=True)
    assert "导出 Excel" in page and "导出未脱敏数据" not in page
    refused = client.post(
        f"{url}/export", data={"csrf_token": token, "unmasked": "y", "reason": "想看看完整号码"}
    )
    assert refused.status_code == 302
    assert "无权导出未脱敏数据" in client.get(refused.headers["Location"]).get_data(as_text=True)
    masked = client.post(f"{url}/export", data={"csrf_token": token})
    assert masked.status_code == 200 and len(sheet_rows(masked.data)) == 4


@pytest.mark.parametrize("role", [Role.PROPAGANDA, Role.CYBER_POLICE])
def test_roles_without_the_list_get_403(
    client: FlaskClient, db: Session, silent_people: dict[str, Any], role: Role
) -> None:
    signed_in(client, db, role)
    token = csrf(client, "/")
    assert client.get("/checkins/lists/non_responders").status_code == 403
    assert client.post("/checkins/lists/non_responders/export", data={"csrf_token": token}).status_code == 403
    assert audit_events(db, "export") == []
