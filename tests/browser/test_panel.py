"""The panel in a real browser: sign-in, charts with data, a masked export, jurisdiction walls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.models import AuditEvent, Jurisdiction, Resident
from tests.browser.conftest import LiveServer, screenshot, sign_in

MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")


def _series_lengths(page: Page, chart_id: str) -> list[int]:
    """How many data points each series of the ECharts instance drawn in #chart_id holds."""
    lengths: Any = page.evaluate(
        """id => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            return chart ? chart.getOption().series.map(s => s.data.length) : null;
        }""",
        chart_id,
    )
    assert lengths is not None, f"no ECharts instance in #{chart_id}"
    return list(lengths)


def test_sign_in_and_dashboard_charts_have_data(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "admin")
    expect(page.get_by_role("heading", name=re.compile("工作台"))).to_be_visible()
    expect(page.locator("#chart-trend canvas")).to_have_count(1)
    expect(page.locator("#chart-townships canvas")).to_have_count(1)
    assert _series_lengths(page, "chart-trend") == [14, 14]  # rate and abnormal, one point a day
    assert _series_lengths(page, "chart-townships")[0] >= 10  # the demo county's townships
    rates: Any = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption().series[0].data"
    )
    assert any(rate > 50 for rate in rates[:-1]), rates  # past days are mostly answered
    assert _series_lengths(page, "chart-leads") == [3]  # leads by status
    # Every figure is a link to the list behind it: the abnormal count opens that list.
    page.locator(".stat", has_text="健康异常").locator("a").click()
    expect(page.get_by_role("heading", name=re.compile("健康异常人员"))).to_be_visible()
    page.go_back()
    screenshot(page, "dashboard")


def test_export_is_masked_and_audited(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/checkins/lists/non_responders")
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    screenshot(page, "line-list", full_page=False)
    page.get_by_text("导出 Excel").click()
    with page.expect_download() as info:
        page.get_by_test_id("export-submit").click()
    download = info.value
    assert download.suggested_filename.endswith("-脱敏.xlsx")
    saved = tmp_path / "export.xlsx"  # openpyxl wants the extension
    download.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header, body = rows[0], rows[1:]
    assert header[:3] == ("姓名", "手机号", "身份证号")
    assert body, "the export has rows"
    for row in body:
        assert MASKED_PHONE.match(str(row[1])), row[1]
        assert MASKED_ID.match(str(row[2])), row[2]
    with live_server.rt.session() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()[-1]
        assert event.actor_label == "clerk"
        assert event.detail["masked"] is True and event.detail["rows"] == len(body)


def test_station_officer_cannot_open_another_stations_resident(page: Page, live_server: LiveServer) -> None:
    with live_server.rt.session() as db:
        own = db.scalar(select(Jurisdiction.id).where(Jurisdiction.name == "城关派出所"))
        mine = db.scalar(select(Resident.id).where(Resident.station_id == own).limit(1))
        other = db.scalar(select(Resident.id).where(Resident.station_id != own).limit(1))
    sign_in(page, live_server, "chengguan")
    response = page.goto(f"{live_server.url}/residents/{other}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("不在您的辖区权限范围内")).to_be_visible()
    response = page.goto(f"{live_server.url}/residents/{mine}")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="时间线")).to_be_visible()
    # Revealing the phone is one click, shown in place, and audited.
    phone = page.locator('.pii[data-field="phone"]')
    expect(phone).to_have_text(MASKED_PHONE)
    screenshot(page, "resident")
    page.locator(".pii-row", has=phone).get_by_role("button", name="显示").click()
    expect(phone).to_have_text(re.compile(r"^1\d{10}$"))
    with live_server.rt.session() as db:
        reveal = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.reveal")).all()[-1]
        assert (reveal.actor_label, reveal.record_id, reveal.detail) == (
            "chengguan",
            str(mine),
            {"field": "phone"},
        )
