"""The daily report in a real browser: the clerk submits, two leaders sign, the .xlsx downloads."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.config import replace
from bot.models import AuditEvent, DailyReport, ReportStatus, Role
from bot.services import jurisdictions, staff
from bot.services.audit import SYSTEM
from tests.browser.conftest import LiveServer, screenshot, sign_in

SECOND_LEADER, SECOND_PASSWORD = "leader-zhengwei", "browser-test-password"


@pytest.fixture()
def two_step_chain(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    """The chain shortened to two titles for this test, and a second leader account to sign."""
    rt = live_server.rt
    monkeypatch.setattr(rt, "settings", replace(rt.settings, reports={"approval_chain": ("所长", "政委")}))
    with rt.session() as db:
        staff.create_user(
            db,
            SYSTEM,
            username=SECOND_LEADER,
            role=Role.LEADER,
            jurisdiction=jurisdictions.county(db),
            password=SECOND_PASSWORD,
            display_name="王政委",
        )
    return dataclasses.replace(live_server, logins={**live_server.logins, SECOND_LEADER: SECOND_PASSWORD})


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible()


def test_report_approved_by_two_leaders_and_exported(
    page: Page, two_step_chain: LiveServer, tmp_path: Path
) -> None:
    server = two_step_chain
    day = server.today.isoformat()
    sign_in(page, server, "clerk")
    page.get_by_role("link", name="日报").click()
    page.get_by_role("button", name=re.compile("生成今日")).click()
    expect(page.get_by_role("heading", name=re.compile(f"{day} 日报"))).to_be_visible()
    expect(page.get_by_role("heading", name="按派出所")).to_be_visible()
    page.get_by_label("情况说明").fill("今日全县报到总体平稳，异常人员均已落实核查。")
    page.get_by_role("button", name="提交审批").click()
    expect(page.get_by_text("已提交审批。")).to_be_visible()
    _sign_out(page)

    sign_in(page, server, "leader")
    page.goto(f"{server.url}/reports/{day}")
    expect(page.get_by_role("heading", name="签批：所长")).to_be_visible()
    page.get_by_role("button", name="同意").click()
    expect(page.get_by_text("已签批。")).to_be_visible()
    expect(page.get_by_text("同一份日报的两个审批环节不能由同一人签批")).to_be_visible()
    _sign_out(page)

    sign_in(page, server, SECOND_LEADER)
    page.goto(f"{server.url}/reports/{day}")
    page.get_by_label(re.compile("审批意见")).fill("同意上报。")
    page.get_by_role("button", name="同意").click()
    expect(page.locator("h1 .badge")).to_have_text("已审批")
    expect(page.locator(".report-chain .step-approved")).to_have_count(2)
    screenshot(page, "daily-report")

    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    saved = tmp_path / "report.xlsx"
    info.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames[:3] == ["概况", "按乡镇街道", "按派出所"]
    stations = [row[0] for row in book["按派出所"].iter_rows(min_row=3, values_only=True)]
    assert len(stations) > 2 and stations[-1] == "合计"
    approvals = [row[2:4] for row in book["审批记录"].iter_rows(min_row=3, values_only=True)]
    assert approvals == [("提交审批", "clerk"), ("同意", "leader"), ("同意", "王政委")]

    page.get_by_role("link", name="打印版").click()
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    expect(page.get_by_role("heading", name="兰西县疫情防控外出人员日报")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()  # @media print hides the controls
    page.emulate_media(media="screen")

    with server.rt.session() as db:
        report = db.scalar(select(DailyReport).where(DailyReport.day == server.today))
        assert report is not None and report.status == ReportStatus.APPROVED
        formats = db.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "report.export", AuditEvent.record_id == str(report.id)
            )
        ).all()
        assert sorted(d["format"] for d in formats) == ["print", "xlsx"]
