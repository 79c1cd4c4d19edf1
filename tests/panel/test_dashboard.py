"""The dashboard: role-aware sections, scoped figures, chart data embedded as JSON, every number a link."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.models import CheckinStatus, Health, LeadStatus, Role
from bot.runtime import Runtime
from tests.factories import make_checkin, make_lead, make_resident, make_station
from tests.panel.support import signed_in, today


@pytest.fixture()
def county(db: Session, rt: Runtime) -> dict[str, Any]:
    east, west = make_station(db, "东派出所测试", "东镇测试"), make_station(db, "西派出所测试", "西乡测试")
    day = today(rt)
    for _ in range(3):
        make_checkin(db, make_resident(db, east), day, status=CheckinStatus.ANSWERED, health=Health.NORMAL)
    fever = make_resident(db, west, name="发热者")
    make_checkin(db, fever, day, status=CheckinStatus.ANSWERED, health=Health.FEVER, abnormal=True)
    make_checkin(db, make_resident(db, west), day, status=CheckinStatus.PHONE_LIST)
    make_checkin(db, fever, day - timedelta(days=1), status=CheckinStatus.ANSWERED)
    make_lead(db, west, due_date=day - timedelta(days=2))
    make_lead(db, east, status=LeadStatus.DONE, outcome="已解除")
    db.commit()
    return {"east": east, "west": west}


def chart_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S)
    assert found, "the chart data is embedded"
    data: dict[str, Any] = json.loads(unescape(found[1]))
    return data


def stat_links(page: str) -> dict[str, str]:
    """Each stat card's label -> the link on its number."""
    cards = re.findall(r'<div class="stat-label">([^<]+)</div>\s*<a class="stat-value" href="([^"]+)"', page)
    return {label: unescape(href) for label, href in cards}


def test_admin_sees_every_section_with_linked_numbers(
    client: FlaskClient, db: Session, rt: Runtime, county: dict[str, Any]
) -> None:
    signed_in(client, db, Role.ADMIN)
    page = client.get("/").get_data(as_text=True)
    for heading in ("签到与走访", "线索", "谣言举报", "倡议书"):
        assert f">{heading}</h2>" in page
    assert "echarts.min.js" in page and "js/dashboard.js" in page and "<script>" not in page  # no inline JS
    links = stat_links(page)
    assert urlsplit(links["健康异常"]).path == "/checkins/lists/abnormal"
    assert parse_qs(urlsplit(links["当日已签到"]).query)["status"] == ["answered_all"]
    assert urlsplit(links["逾期未办结"]).path == "/lists/leads_overdue"
    # The numbers lead to lists with as many rows as the number says.
    abnormal = client.get(links["健康异常"]).get_data(as_text=True)
    assert "共 1 条" in abnormal and "发热者" in abnormal
    answered = client.get(links["当日已签到"]).get_data(as_text=True)
    assert "共 4 条" in answered
    overdue = client.get(links["逾期未办结"]).get_data(as_text=True)
    assert "共 1 条" in overdue


def test_chart_data_carries_figures_and_links(
    client: FlaskClient, db: Session, rt: Runtime, county: dict[str, Any]
) -> None:
    signed_in(client, db, Role.ADMIN)
    data = chart_data(client.get("/").get_data(as_text=True))
    trend = data["trend"]
    assert len(trend["days"]) == 14 and trend["rate"][-1] == 80.0 and trend["abnormal"][-1] == 1
    assert trend["rate"][-2] == 100.0 and trend["links"][-1].startswith("/checkins/lists/checkins?day=")
    towns = dict(zip(data["townships"]["names"], data["townships"]["not_answered"], strict=True))
    assert towns["西乡测试"] == 1 and towns["东镇测试"] == 0
    leads = {item["name"]: item for item in data["leads"]["items"]}
    assert leads["待处理"]["value"] == 1 and leads["已办结"]["link"] == "/lists/leads?status=done"
    assert set(data) == {"trend", "townships", "leads", "tips"}


def test_station_officer_sees_only_their_station(
    client: FlaskClient, db: Session, county: dict[str, Any]
) -> None:
    signed_in(client, db, Role.STATION_OFFICER, county["east"])
    page = client.get("/").get_data(as_text=True)
    assert "东派出所测试" in page and "西派出所测试" not in page
    data = chart_data(page)
    assert data["trend"]["abnormal"][-1] == 0 and data["townships"]["names"] == ["东镇测试"]
    assert ">谣言举报</h2>" not in page and ">倡议书</h2>" not in page  # not their work
    assert sum(item["value"] for item in data["leads"]["items"]) == 1  # the east station's lead only


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.PROPAGANDA, {"倡议书"}, {"签到与走访", "线索", "谣言举报"}),
        (Role.CYBER_POLICE, {"线索", "谣言举报", "倡议书"}, {"签到与走访"}),
        (Role.LEADER, {"签到与走访", "线索", "倡议书"}, {"谣言举报"}),
    ],
)
def test_sections_follow_the_role(
    client: FlaskClient, db: Session, county: dict[str, Any], role: Role, shown: set[str], hidden: set[str]
) -> None:
    signed_in(client, db, role)
    page = client.get("/").get_data(as_text=True)
    assert all(f">{h}</h2>" in page for h in shown)
    assert not any(f">{h}</h2>" in page for h in hidden)


def test_an_earlier_day_can_be_shown_but_not_a_future_one(
    client: FlaskClient, db: Session, rt: Runtime, county: dict[str, Any]
) -> None:
    signed_in(client, db, Role.ADMIN)
    yesterday = today(rt) - timedelta(days=1)
    page = client.get(f"/?day={yesterday.isoformat()}").get_data(as_text=True)
    assert f"{yesterday.isoformat()}（历史）" in page
    assert chart_data(page)["trend"]["rate"][-1] == 100.0
    future = client.get(f"/?day={(today(rt) + timedelta(days=3)).isoformat()}").get_data(as_text=True)
    assert "（历史）" not in future
    assert client.get("/?day=not-a-date").status_code == 200
