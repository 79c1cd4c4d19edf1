"""The audit page: only for VIEW_AUDIT roles; search by person, record, action and time; append-only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Role
from bot.services import audit, audit_search
from bot.services.audit import SYSTEM, Actor
from tests.panel.support import signed_in, staff_member

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture()
def log(db: Session) -> dict[str, Actor]:
    alice = staff_member(db, Role.DATA_CLERK, username="alice-audit")
    bob = staff_member(db, Role.ADMIN, username="bob-audit")
    a, b = Actor.staff(alice, "10.0.0.1"), Actor.staff(bob)
    events = [
        (a, "resident.view", "resident", 7, datetime(2020, 2, 14, 15, 59, tzinfo=UTC)),  # 23:59 on the 14th
        (a, "resident.edit", "resident", 7, datetime(2020, 2, 14, 16, 1, tzinfo=UTC)),  # 00:01 on the 15th
        (b, "export", "line_list", "abnormal", datetime(2020, 2, 15, 2, 0, tzinfo=UTC)),
        (SYSTEM, "resident.import", "resident", 8, datetime(2020, 2, 16, 2, 0, tzinfo=UTC)),
    ]
    for actor, action, record_type, record_id, at in events:
        audit.record(db, actor, action, record_type=record_type, record_id=record_id).at = at
    db.flush()
    return {"alice": a, "bob": b}


def found(db: Session, **args: str) -> list[str]:
    page = audit_search.search(db, audit_search.parse_query(args), TZ)
    return [
        f"{e.actor_label}:{e.action}"
        for e in page.items
        if e.actor_label != "system" or e.action != "staff.create"
    ]


def test_search_by_person_record_action_and_time(db: Session, log: dict[str, Actor]) -> None:
    assert found(db, actor="alice-audit") == ["alice-audit:resident.edit", "alice-audit:resident.view"]
    assert found(db, actor="system", action="resident") == ["system:resident.import"]
    assert found(db, record_type="resident", record_id="7") == [
        "alice-audit:resident.edit",
        "alice-audit:resident.view",
    ]
    assert found(db, action="resident.edit") == ["alice-audit:resident.edit"]
    assert found(db, action="export") == ["bob-audit:export"]
    # Days are local (Asia/Shanghai): 00:01 on the 15th belongs to the 15th, 23:59 on the 14th does not.
    assert found(db, since="2020-02-15", until="2020-02-15", action="resident") == [
        "alice-audit:resident.edit"
    ]
    assert found(db, actor="nobody") == []


def test_paging_and_parsing(db: Session, log: dict[str, Actor]) -> None:
    query = audit_search.parse_query({"page": "-3", "since": "garbage", "actor": " alice-audit "})
    assert (query.page, query.since, query.actor) == (1, None, "alice-audit")
    first = audit_search.search(db, audit_search.AuditQuery(actor="alice-audit"), TZ, per_page=1)
    second = audit_search.search(db, audit_search.AuditQuery(actor="alice-audit", page=2), TZ, per_page=1)
    assert first.total == 2 and first.pages == 2
    assert first.items[0].id != second.items[0].id
    assert audit_search.AuditQuery(actor="x", since=date(2020, 2, 1), page=2).params() == {
        "actor": "x",
        "since": "2020-02-01",
        "page": "2",
    }


def test_the_log_is_append_only(db: Session, log: dict[str, Actor]) -> None:
    event = db.scalars(select(AuditEvent)).first()
    assert event is not None
    event.action = "nothing.happened"
    with pytest.raises(PermissionError):
        db.flush()
    db.rollback()


def test_page_for_leaders_not_for_clerks(client: FlaskClient, db: Session, log: dict[str, Actor]) -> None:
    signed_in(client, db, Role.DATA_CLERK)
    assert client.get("/audit/").status_code == 403


def rows_of(client: FlaskClient, url: str) -> str:
    return client.get(url).get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]


def test_page_lists_and_filters(client: FlaskClient, db: Session, log: dict[str, Actor]) -> None:
    signed_in(client, db, Role.LEADER)
    rows = rows_of(client, "/audit/?actor=alice-audit")
    assert "修改人员信息" in rows and "查看人员" in rows and "导出名单" not in rows
    assert "2020-02-15 00:01:00" in rows  # shown in local time
    assert "10.0.0.1" in rows
    lists = rows_of(client, "/audit/?record_type=line_list")
    assert "bob-audit" in lists and "alice-audit" not in lists
