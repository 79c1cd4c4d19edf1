"""The report pages: review, submission, approval through the chain, print and .xlsx, permissions."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import replace
from bot.models import AuditEvent, DailyReport, ReportStatus, Role
from bot.runtime import Runtime
from bot.services import reports
from tests.factories import login, make_station, make_user
from tests.reports.scenario import DAY, NOW, TZ, build
from web import ROOT

URL = f"/reports/{DAY.isoformat()}"


def _client(app: Flask, db: Session, role: Role, **kw: object) -> FlaskClient:
    user = make_user(db, role, **kw)
    db.commit()
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def _csrf(client: FlaskClient, url: str = URL) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "the page has a form with a CSRF token"
    return match[1]


def _post(client: FlaskClient, path: str, **data: str) -> str:
    response = client.post(URL + path, data={"csrf_token": _csrf(client), **data}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture()
def drafted(db: Session) -> DailyReport:
    build(db)
    report, _ = reports.draft(db, DAY, tz=TZ, now=NOW)
    db.commit()
    return report


def test_clerk_reviews_submits_and_two_leaders_approve_then_export(
    app: Flask, db: Session, drafted: DailyReport, rt: Runtime
) -> None:
    rt.settings = replace(rt.settings, reports={"approval_chain": ("所长", "政委")})
    clerk = _client(app, db, Role.DATA_CLERK)
    page = clerk.get(URL).get_data(as_text=True)
    assert "按派出所" in page and "北城派出所" in page and "张*丰" in page and "张三丰" not in page
    assert "提交审批" in page
    assert "已保存" in _post(clerk, "/summary", summary="今日发现发热 1 人", save="保存")
    assert "已提交审批" in _post(
        clerk, "/summary", summary="今日发现发热 1 人，已送医", submit_report="提交审批"
    )
    director, commissar = _client(app, db, Role.LEADER), _client(app, db, Role.LEADER)
    page = _post(director, "/decide", comment="", approve="同意")
    assert "已签批" in page
    assert "同一人" in director.get(URL).get_data(as_text=True)  # no form for a second signature
    assert "已签批" in _post(commissar, "/decide", comment="核实无误", approve="同意")
    db.expire_all()
    report = db.scalar(select(DailyReport).where(DailyReport.day == DAY))
    assert report is not None and report.status == ReportStatus.APPROVED
    assert report.summary == "今日发现发热 1 人，已送医"

    response = commissar.get(URL + "/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:3] == ["概况", "按乡镇街道", "按派出所"] and "审批记录" in book.sheetnames
    stations = book["按派出所"]
    assert [c.value for c in stations[2]][:3] == ["派出所", "乡镇街道", "在册人数"]
    assert stations["A2"].font.bold and stations.freeze_panes == "B3"
    names = [row[0].value for row in stations.iter_rows(min_row=3)]
    assert "北城派出所" in names and names[-1] == "合计"
    rate_column = [c.value for c in stations[2]].index("报到率") + 1
    assert stations.cell(row=3, column=rate_column).number_format == "0.0%"
    abnormal = [row[0].value for row in book["异常人员"].iter_rows(min_row=3)]
    assert "张*丰" in abnormal
    history = [[c.value for c in row] for row in book["审批记录"].iter_rows(min_row=3)]
    assert [row[2] for row in history] == ["提交审批", "同意", "同意"]
    assert book["概况"]["A1"].value.endswith(f"（{DAY.isoformat()}）")

    printable = commissar.get(URL + "/print")
    text = printable.get_data(as_text=True)
    assert printable.status_code == 200 and "data-print" in text and "js/reports.js" in text
    assert "@media print" in (ROOT / "web/static/css/panel.css").read_text(encoding="utf-8")
    exports = db.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.action == "report.export", AuditEvent.record_id == str(report.id)
        )
    )
    assert sorted(d["format"] for d in exports) == ["print", "xlsx"]


def test_return_with_comment_and_resubmit(app: Flask, db: Session, drafted: DailyReport) -> None:
    clerk = _client(app, db, Role.DATA_CLERK)
    _post(clerk, "/summary", summary="", submit_report="提交审批")
    leader = _client(app, db, Role.LEADER)
    assert "退回时请填写退回意见" in _post(leader, "/decide", comment="", send_back="退回")
    assert "已退回数据组" in _post(leader, "/decide", comment="请补充走访数据", send_back="退回")
    page = clerk.get(URL).get_data(as_text=True)
    assert "已被退回" in page and "请补充走访数据" in page
    assert "数据已重新生成" in _post(clerk, "/refresh")
    _post(clerk, "/summary", summary="已补充", submit_report="提交审批")
    db.expire_all()
    report = db.get(DailyReport, drafted.id)
    assert report is not None and (report.status, report.round) == (ReportStatus.IN_APPROVAL, 2)


def test_export_before_approval_is_refused(app: Flask, db: Session, drafted: DailyReport) -> None:
    clerk = _client(app, db, Role.DATA_CLERK)
    response = clerk.get(URL + "/export.xlsx", follow_redirects=True)
    assert "审批完成后才能导出" in response.get_data(as_text=True)
    assert not response.mimetype.endswith("sheet")
    assert "审批完成后" in clerk.get(URL + "/print", follow_redirects=True).get_data(as_text=True)


def test_permissions(app: Flask, db: Session, drafted: DailyReport) -> None:
    officer = _client(app, db, Role.STATION_OFFICER, jurisdiction=make_station(db))
    assert officer.get("/reports/").status_code == 403 and officer.get(URL).status_code == 403
    assert _client(app, db, Role.PROPAGANDA).get(URL).status_code == 403
    township_clerk = _client(app, db, Role.DATA_CLERK, jurisdiction=make_station(db).parent)
    assert township_clerk.get(URL).status_code == 403
    leader = _client(app, db, Role.LEADER)
    assert leader.get(URL).status_code == 200 and "submit_report" not in leader.get(URL).get_data(
        as_text=True
    )
    token = _csrf(leader)
    assert leader.post("/reports/draft", data={"csrf_token": token}).status_code == 403
    assert leader.post(URL + "/summary", data={"csrf_token": token, "submit_report": "1"}).status_code == 403
    clerk = _client(app, db, Role.DATA_CLERK)
    assert clerk.post(URL + "/decide", data={"csrf_token": _csrf(clerk), "approve": "1"}).status_code == 403
    assert clerk.post(URL + "/summary", data={"submit_report": "1"}).status_code == 400  # no CSRF token
    assert clerk.get("/reports/2020-13-01").status_code == 404
    assert clerk.get("/reports/2019-01-01").status_code == 404


def test_history_lists_reports_and_clerk_drafts_today(app: Flask, db: Session, drafted: DailyReport) -> None:
    clerk = _client(app, db, Role.DATA_CLERK)
    page = clerk.get("/reports/").get_data(as_text=True)
    assert DAY.isoformat() in page and "草稿" in page
    response = clerk.post("/reports/draft", data={"csrf_token": _csrf(clerk, "/reports/")})
    assert response.status_code == 302
    assert len(list(db.scalars(select(DailyReport.id)))) == 2
