"""The report's workflow: drafting, submission, level-by-level approval, return and resubmission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, DailyReport, ReportStatus, Role, StaffUser
from bot.runtime import Runtime
from bot.services import reports
from bot.services.audit import Actor
from bot.services.reports import ReportError
from tests.factories import make_checkin, make_resident, make_user
from tests.reports.scenario import DAY, NOW, TZ, build

CHAIN = ("所长", "政委", "分管局领导")
LATER = NOW + timedelta(hours=1)


def _actor(user: StaffUser) -> Actor:
    return Actor.staff(user, "127.0.0.1")


def _actions(db: Session, report: DailyReport) -> list[str]:
    stmt = select(AuditEvent.action).where(
        AuditEvent.record_type == "report", AuditEvent.record_id == str(report.id)
    )
    return list(db.scalars(stmt.order_by(AuditEvent.id)))


def test_draft_is_created_then_updated_and_frozen_once_submitted(db: Session) -> None:
    day = build(db)
    report, outcome = reports.draft(db, DAY, tz=TZ, now=NOW)
    assert (outcome, report.status, report.figures["total"]["expected"]) == ("created", ReportStatus.DRAFT, 7)
    make_checkin(db, make_resident(db, day.north), DAY)
    again, outcome = reports.draft(db, DAY, tz=TZ, now=LATER)
    assert (again.id, outcome, again.figures["total"]["expected"], again.drafted_at) == (
        report.id,
        "updated",
        8,
        LATER,
    )
    assert db.scalar(select(DailyReport.id).where(DailyReport.day == DAY).limit(2)) == report.id
    clerk = make_user(db, Role.DATA_CLERK)
    reports.submit(db, _actor(clerk), report, "一切正常", CHAIN)
    make_checkin(db, make_resident(db, day.north), DAY)
    frozen, outcome = reports.draft(db, DAY, tz=TZ, now=LATER + timedelta(hours=1))
    assert (outcome, frozen.figures["total"]["expected"], frozen.drafted_at) == ("frozen", 8, LATER)


def test_three_leaders_approve_in_order_and_the_report_freezes(db: Session) -> None:
    report, _ = reports.draft(db, DAY, tz=TZ, now=NOW)
    clerk = make_user(db, Role.DATA_CLERK)
    leaders = [make_user(db, Role.LEADER, display_name=f"领导{i}") for i in range(3)]
    reports.submit(db, _actor(clerk), report, "今日无新增异常", CHAIN)
    assert (report.status, report.round, report.chain, reports.current_step(report)) == (
        ReportStatus.IN_APPROVAL,
        1,
        list(CHAIN),
        (0, "所长"),
    )
    for i, leader in enumerate(leaders):
        reports.approve(db, _actor(leader), report, "同意" if i else "", now=LATER)
    assert (report.status, report.approved_at, report.approval_step) == (ReportStatus.APPROVED, LATER, 3)
    assert [s.state for s in reports.steps(report)] == ["approved"] * 3
    with pytest.raises(ReportError, match="没有待审批"):
        reports.approve(db, _actor(leaders[0]), report, now=LATER)
    with pytest.raises(ReportError):
        reports.refresh(db, _actor(clerk), report, tz=TZ, now=LATER)
    with pytest.raises(ReportError):
        reports.save_summary(db, _actor(clerk), report, "改一下")
    assert _actions(db, report) == ["report.draft", "report.submit", *["report.approve"] * 3]


def test_one_leader_cannot_sign_two_steps_and_only_leaders_sign(db: Session) -> None:
    report, _ = reports.draft(db, DAY, tz=TZ, now=NOW)
    clerk, admin = make_user(db, Role.DATA_CLERK), make_user(db, Role.ADMIN)
    leader = make_user(db, Role.LEADER)
    reports.submit(db, _actor(clerk), report, "", CHAIN)
    reports.approve(db, _actor(leader), report, now=LATER)
    assert reports.refusal(db, leader, report) == "同一份日报的两个审批环节不能由同一人签批"
    with pytest.raises(ReportError, match="同一人"):
        reports.approve(db, _actor(leader), report, now=LATER)
    for not_leader in (clerk, admin):
        with pytest.raises(ReportError, match="局领导"):
            reports.approve(db, _actor(not_leader), report, now=LATER)
    assert report.approval_step == 1


def test_return_goes_back_to_the_clerk_and_resubmission_restarts_the_chain(db: Session) -> None:
    report, _ = reports.draft(db, DAY, tz=TZ, now=NOW)
    clerk = make_user(db, Role.DATA_CLERK)
    first, second = make_user(db, Role.LEADER), make_user(db, Role.LEADER)
    reports.submit(db, _actor(clerk), report, "初稿", CHAIN)
    reports.approve(db, _actor(first), report, now=LATER)
    with pytest.raises(ReportError, match="退回意见"):
        reports.return_report(db, _actor(second), report, "  ", now=LATER)
    reports.return_report(db, _actor(second), report, "异常人员数与派出所上报不符", now=LATER)
    assert report.status == ReportStatus.RETURNED
    assert [s.state for s in reports.steps(report)] == ["approved", "returned", "pending"]
    with pytest.raises(ReportError):
        reports.approve(db, _actor(first), report, now=LATER)
    reports.refresh(db, _actor(clerk), report, tz=TZ, now=LATER)
    reports.submit(db, _actor(clerk), report, "已核对修正", CHAIN)
    assert (report.round, report.approval_step, report.summary) == (2, 0, "已核对修正")
    assert [s.state for s in reports.steps(report)] == ["waiting", "pending", "pending"]
    # A new round: the leader who signed step 1 before may sign again, once.
    reports.approve(db, _actor(second), report, now=LATER)
    reports.approve(db, _actor(first), report, now=LATER)
    assert reports.current_step(report) == (2, "分管局领导")
    entries = reports.history(report)
    assert [(e.round, e.action, e.step_title) for e in entries] == [
        (1, "submit", "数据组"),
        (1, "approve", "所长"),
        (1, "return", "政委"),
        (2, "submit", "数据组"),
        (2, "approve", "所长"),
        (2, "approve", "政委"),
    ]
    assert entries[2].comment == "异常人员数与派出所上报不符"
    assert [s.summary for s in report.submissions] == ["初稿", "已核对修正"]
    assert "report.return" in _actions(db, report) and "report.refresh" in _actions(db, report)


def test_submission_rules(db: Session) -> None:
    report, _ = reports.draft(db, DAY, tz=TZ, now=NOW)
    clerk = make_user(db, Role.DATA_CLERK)
    with pytest.raises(ReportError, match="审批流程"):
        reports.submit(db, _actor(clerk), report, "", ())
    with pytest.raises(ReportError, match="4000"):
        reports.submit(db, _actor(clerk), report, "长" * 4001, CHAIN)
    reports.submit(db, _actor(clerk), report, "", CHAIN)
    with pytest.raises(ReportError):
        reports.submit(db, _actor(clerk), report, "", CHAIN)
    with pytest.raises(ReportError, match="审批完成后"):
        reports.record_export(db, _actor(clerk), report, "xlsx")


def test_the_daily_report_job_is_declared_and_idempotent(rt: Runtime) -> None:
    from bot.jobs import job, run_job

    spec = job("daily_report")
    assert spec.daily_at is not None and spec.daily_at(rt.settings) == rt.settings.reports.time
    first = run_job(rt, "daily_report", NOW)
    second = run_job(rt, "daily_report", LATER)
    assert (first["day"], first["outcome"], second["outcome"]) == (DAY.isoformat(), "created", "updated")
    with rt.session() as db:
        assert len(list(db.scalars(select(DailyReport).where(DailyReport.day == DAY)))) == 1
