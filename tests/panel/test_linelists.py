"""Line lists: the right rows, filtered, sorted (whitelist), paged, scoped and masked on the server."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.models import CheckinStatus, Health, LeadStatus, ResidentStatus
from bot.services import linelists
from bot.services.linelists import LISTS, ListQuery
from bot.services.scope import COUNTY, Scope
from tests.factories import make_checkin, make_identity, make_lead, make_resident, make_station, make_visit

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 2, 15)


def names(db: Session, name: str, scope: Scope = COUNTY, **args: str) -> list[str]:
    spec = LISTS[name]
    query = linelists.parse_query(spec, {"day": DAY.isoformat(), **args}, DAY)
    return [
        row.cells.get("name") or row.cells.get("title")
        for row in linelists.page(db, scope, spec, query, TZ).items
    ]


@pytest.fixture()
def world(db: Session) -> dict[str, Any]:
    north = make_station(db, "北派出所", "北镇")
    south = make_station(db, "南派出所", "南乡")
    people = {
        "answered": make_resident(db, north, name="王已报", phone="13800001111"),
        "fever": make_resident(db, north, name="李发热"),
        "silent": make_resident(db, north, name="赵未报"),
        "called": make_resident(db, south, name="钱已联系"),
        "missed": make_resident(db, south, name="孙未接通"),
        "back": make_resident(
            db,
            south,
            name="周返乡",
            status=ResidentStatus.MONITORING,
            returned_on=DAY - timedelta(days=12),
            monitoring_end=DAY + timedelta(days=2),
        ),
        "back_later": make_resident(
            db,
            north,
            name="吴返乡",
            status=ResidentStatus.MONITORING,
            returned_on=DAY,
            monitoring_end=DAY + timedelta(days=14),
        ),
        "closed": make_resident(db, north, name="郑解除", status=ResidentStatus.CLOSED),
    }
    make_checkin(db, people["answered"], DAY, status=CheckinStatus.ANSWERED, health=Health.NORMAL)
    make_checkin(db, people["fever"], DAY, status=CheckinStatus.ANSWERED, health=Health.FEVER, abnormal=True)
    make_checkin(db, people["silent"], DAY, status=CheckinStatus.PHONE_LIST, phone_list_reason="silent")
    make_checkin(
        db, people["called"], DAY, status=CheckinStatus.REACHED_BY_PHONE, phone_list_reason="unbound"
    )
    make_checkin(db, people["missed"], DAY, status=CheckinStatus.NOT_REACHED, phone_list_reason="silent")
    make_checkin(db, people["silent"], DAY - timedelta(days=1), status=CheckinStatus.ANSWERED)
    make_visit(db, people["answered"], DAY)
    make_visit(db, people["called"], DAY - timedelta(days=2))
    for key in ("answered", "fever", "silent"):
        make_identity(db, people[key])
    return {"north": north, "south": south, **people}


def test_checkin_lists_select_the_right_people(db: Session, world: dict[str, Any]) -> None:
    assert sorted(names(db, "non_responders")) == ["孙未接通", "赵未报"]
    assert names(db, "abnormal") == ["李发热"]
    assert sorted(names(db, "checkins", status="answered_all")) == ["李发热", "王已报", "钱已联系"]
    assert len(names(db, "checkins")) == 5
    assert sorted(names(db, "checkins", status="answered")) == ["李发热", "王已报"]  # on WeChat only
    assert names(db, "phone_list") == ["赵未报"]  # default: still due
    assert names(db, "phone_list", state="not_reached") == ["孙未接通"]
    assert sorted(names(db, "phone_list", state="all")) == ["孙未接通", "赵未报", "钱已联系"]
    # Another day has other rows: yesterday 赵未报 answered.
    assert names(db, "checkins", day=(DAY - timedelta(days=1)).isoformat()) == ["赵未报"]


def test_resident_lists_select_the_right_people(db: Session, world: dict[str, Any]) -> None:
    assert sorted(names(db, "monitoring")) == ["吴返乡", "周返乡"]
    assert names(db, "monitoring", returned="today") == ["吴返乡"]
    assert names(db, "monitoring_ending") == ["周返乡"]  # ends within 3 days
    assert sorted(names(db, "monitoring_ending", within="7")) == ["周返乡"]
    unbound = names(db, "unbound")
    assert "郑解除" not in unbound and "王已报" not in unbound and "钱已联系" in unbound
    assert len(names(db, "registry")) == 8
    assert sorted(names(db, "registry", wechat="bound")) == ["李发热", "王已报", "赵未报"]
    assert names(db, "registry", status="closed", wechat="unbound") == ["郑解除"]
    assert names(db, "visited", when="today") == ["王已报"]
    assert sorted(names(db, "visited", when="ever")) == ["王已报", "钱已联系"]
    assert len(names(db, "visited", when="never")) == 6


def test_lead_lists(db: Session, world: dict[str, Any]) -> None:
    make_lead(
        db, world["north"], title="发热核查", resident_id=world["fever"].id, due_date=DAY - timedelta(days=1)
    )
    make_lead(db, world["south"], title="谣言核查", due_date=DAY + timedelta(days=1))
    make_lead(db, world["south"], title="已办结", status=LeadStatus.DONE, outcome="查无实据", due_date=DAY)
    assert names(db, "leads_overdue") == ["李发热"]  # the person's name when there is one
    assert len(names(db, "leads")) == 3
    assert names(db, "leads", outcome="查无实据") == ["已办结"]
    assert names(db, "leads", status="done") == ["已办结"]
    assert names(db, "leads", overdue="1") == ["李发热"]
    assert names(db, "leads", q="谣言") == ["谣言核查"]


def test_filters_by_station_township_and_name(db: Session, world: dict[str, Any]) -> None:
    # Same station: the id breaks the tie, so the order is the order of registration.
    assert names(db, "checkins", station_id=str(world["south"].id)) == ["钱已联系", "孙未接通"]
    assert len(names(db, "checkins", township_id=str(world["north"].parent_id))) == 3
    assert names(db, "checkins", q="发热") == ["李发热"]
    assert names(db, "checkins", q="%") == []  # LIKE wildcards are escaped
    # A whole phone or ID number finds its person exactly, through the blind index.
    assert names(db, "checkins", q="138 0000 1111") == ["王已报"]
    assert names(db, "registry", q=world["fever"].id_number.lower()) == ["李发热"]
    assert names(db, "checkins", q="13800001112") == []


def test_scope_limits_every_list(db: Session, world: dict[str, Any]) -> None:
    south_only = Scope(frozenset({world["south"].id}))
    assert sorted(names(db, "checkins", south_only)) == ["孙未接通", "钱已联系"]
    assert names(db, "abnormal", south_only) == []
    # A station filter outside the scope cannot widen it.
    assert names(db, "checkins", south_only, station_id=str(world["north"].id)) == []


def test_sorting_is_whitelisted_and_stable(db: Session, world: dict[str, Any]) -> None:
    ascending = names(db, "checkins", sort="name")
    assert ascending == sorted(ascending)
    assert names(db, "checkins", sort="name", desc="1") == list(reversed(ascending))
    spec = LISTS["checkins"]
    query = linelists.parse_query(
        spec, {"sort": "phone; DROP TABLE residents", "page": "x", "per_page": "9999"}, DAY
    )
    assert (query.sort, query.page, query.per_page) == ("", 1, linelists.MAX_PER_PAGE)
    assert linelists.parse_query(spec, {"status": "bogus"}, DAY).option("status") == ""


def test_pages_cover_every_row_once(db: Session, world: dict[str, Any]) -> None:
    spec = LISTS["checkins"]
    seen = []
    for number in (1, 2, 3):
        query = ListQuery(day=DAY, sort="station_id", page=number, per_page=2)
        page = linelists.page(db, COUNTY, spec, query, TZ)
        assert page.total == 5 and page.pages == 3
        seen += [row.record_id for row in page.items]
    assert len(seen) == len(set(seen)) == 5
    last = linelists.page(db, COUNTY, spec, ListQuery(day=DAY, page=99, per_page=2), TZ)
    assert last.page == 3  # past the end: the last page


def test_identifiers_are_masked_unless_an_export_unmasks(db: Session, world: dict[str, Any]) -> None:
    spec = LISTS["checkins"]
    query = ListQuery(day=DAY, q="王已报")
    (row,) = linelists.page(db, COUNTY, spec, query, TZ).items
    assert row.cells["phone"] == "138****1111"
    assert (
        row.cells["id_number"]
        == world["answered"].id_number[:6] + "********" + world["answered"].id_number[-4:]
    )
    assert row.cells["station_id"] == "北派出所" and row.cells["township_id"] == "北镇"
    assert row.resident_id == world["answered"].id
    (clear,) = linelists.all_rows(db, COUNTY, spec, query, TZ, masked=False)
    assert clear.cells["phone"] == "13800001111"


def test_query_params_round_trip(db: Session) -> None:
    spec = LISTS["phone_list"]
    args = {"day": "2020-02-15", "station_id": "7", "state": "all", "sort": "name", "desc": "1", "page": "2"}
    query = linelists.parse_query(spec, args, DAY)
    assert query.params() == args
    assert linelists.parse_query(spec, query.params(), DAY) == query
    assert "page" not in query.filters() and "sort" not in query.filters()
