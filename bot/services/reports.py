"""The daily report: drafted by the job, reviewed by the data clerk, approved level by level.

draft ──submit──▶ in_approval ──approve (each step of the chain)──▶ approved (frozen)
  ▲                    │
  └──── returned ◀─return (with a comment)

The job (re)drafts a draft only; the clerk may refresh the figures of a draft or a returned
report, then submits, which opens a new round (the earlier rounds stay in the history). Each
step is signed by a leader account, and one leader never signs two steps of the same round.
Figures are stored on the row: an approved report never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import (
    DailyReport,
    Decision,
    ReportApproval,
    ReportStatus,
    ReportSubmission,
    Role,
    StaffUser,
)
from bot.services import audit, report_figures
from bot.services.audit import Actor
from bot.services.residents import Page
from bot.services.scope import Scope

MAX_SUMMARY = 4000
MAX_COMMENT = 1000
EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED)
DraftOutcome = Literal["created", "updated", "frozen"]


class ReportError(Exception):
    """A refused step of the report's workflow; the message is shown to staff."""


def visible_to(scope: Scope) -> bool:
    """The report covers the whole county: only county-level accounts read it."""
    return scope.is_county


def get(db: Session, day: date) -> DailyReport | None:
    return db.scalar(select(DailyReport).where(DailyReport.day == day))


def history_page(db: Session, *, page: int = 1, per_page: int = 30) -> Page:
    """Past reports, newest first."""
    total = db.scalar(select(func.count(DailyReport.id))) or 0
    items = list(
        db.scalars(
            select(DailyReport).order_by(DailyReport.day.desc()).limit(per_page).offset((page - 1) * per_page)
        )
    )
    return Page(items, total, page, per_page)


def draft(db: Session, day: date, *, tz: ZoneInfo, now: datetime) -> tuple[DailyReport, DraftOutcome]:
    """The day's report with fresh figures; a report already submitted or approved is left as it is."""
    report = get(db, day)
    if report is None:
        report = DailyReport(day=day, status=ReportStatus.DRAFT, summary="")
        db.add(report)
        outcome: DraftOutcome = "created"
    elif report.status == ReportStatus.DRAFT:
        outcome = "updated"
    else:
        return report, "frozen"
    _compute(db, report, tz, now)
    db.flush()
    if outcome == "created":
        audit.record(
            db, audit.SYSTEM, "report.draft", record_type="report", record_id=report.id, day=str(day)
        )
    return report, outcome


def refresh(db: Session, actor: Actor, report: DailyReport, *, tz: ZoneInfo, now: datetime) -> None:
    """The clerk recomputes the figures of a draft or a returned report before submitting it."""
    report = _locked(db, report)
    if report.status not in EDITABLE:
        raise ReportError("只有草稿或已退回的日报可以重新生成数据")
    _compute(db, report, tz, now)
    audit.record(db, actor, "report.refresh", record_type="report", record_id=report.id)


def _compute(db: Session, report: DailyReport, tz: ZoneInfo, now: datetime) -> None:
    report.figures = report_figures.compute(db, report.day, tz, now)
    report.drafted_at = now


def save_summary(db: Session, actor: Actor, report: DailyReport, summary: str) -> None:
    report = _locked(db, report)
    if report.status not in EDITABLE:
        raise ReportError("日报已提交审批，不能修改")
    report.summary = _clean(summary, MAX_SUMMARY, "情况说明")
    audit.record(db, actor, "report.edit", record_type="report", record_id=report.id)


def submit(db: Session, actor: Actor, report: DailyReport, summary: str, chain: tuple[str, ...]) -> None:
    """Send the report to the first step of ``chain``; approvals of earlier rounds no longer count."""
    report = _locked(db, report)
    if report.status not in EDITABLE:
        raise ReportError("日报已提交审批或已审批完成")
    if not chain:
        raise ReportError("未配置日报审批流程（[reports] approval_chain）")
    if actor.user_id is None:
        raise ReportError("提交人未知")
    report.summary = _clean(summary, MAX_SUMMARY, "情况说明")
    report.round += 1
    report.status, report.approval_step, report.chain = ReportStatus.IN_APPROVAL, 0, list(chain)
    report.submissions.append(
        ReportSubmission(round=report.round, submitted_by_id=actor.user_id, summary=report.summary)
    )
    audit.record(db, actor, "report.submit", record_type="report", record_id=report.id, round=report.round)


def current_step(report: DailyReport) -> tuple[int, str] | None:
    """(index, title) of the step waiting for a signature, or None when nothing waits."""
    if report.status != ReportStatus.IN_APPROVAL or report.approval_step >= len(report.chain):
        return None
    return report.approval_step, report.chain[report.approval_step]


def refusal(db: Session, user: StaffUser, report: DailyReport) -> str | None:
    """Why ``user`` may not sign the waiting step now, or None when they may."""
    if current_step(report) is None:
        return "该日报当前没有待审批的环节"
    if user.role != Role.LEADER:
        return "只有局领导账号可以审批日报"
    signed = db.scalar(
        select(ReportApproval.id).where(
            ReportApproval.report_id == report.id,
            ReportApproval.round == report.round,
            ReportApproval.approver_id == user.id,
        )
    )
    if signed is not None:
        return "同一份日报的两个审批环节不能由同一人签批"
    return None


def approve(db: Session, actor: Actor, report: DailyReport, comment: str = "", *, now: datetime) -> None:
    step, title = _sign(db, actor, report, Decision.APPROVE, _clean(comment, MAX_COMMENT, "审批意见"), now)
    report.approval_step = step + 1
    if report.approval_step >= len(report.chain):
        report.status, report.approved_at = ReportStatus.APPROVED, now
    audit.record(
        db, actor, "report.approve", record_type="report", record_id=report.id, step=step, title=title
    )


def return_report(db: Session, actor: Actor, report: DailyReport, comment: str, *, now: datetime) -> None:
    """Send the report back to the clerk, with the reason; a resubmission starts the chain again."""
    comment = _clean(comment, MAX_COMMENT, "退回意见")
    if not comment:
        raise ReportError("退回时请填写退回意见")
    step, title = _sign(db, actor, report, Decision.RETURN, comment, now)
    report.status = ReportStatus.RETURNED
    audit.record(
        db, actor, "report.return", record_type="report", record_id=report.id, step=step, title=title
    )


def _sign(
    db: Session, actor: Actor, report: DailyReport, decision: Decision, comment: str, now: datetime
) -> tuple[int, str]:
    report = _locked(db, report)
    user = db.get(StaffUser, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise ReportError("只有局领导账号可以审批日报")
    reason = refusal(db, user, report)
    waiting = current_step(report)
    if reason is not None or waiting is None:
        raise ReportError(reason or "该日报当前没有待审批的环节")
    step, title = waiting
    report.approvals.append(
        ReportApproval(
            round=report.round,
            step=step,
            step_title=title,
            approver_id=user.id,
            decision=decision,
            comment=comment,
            at=now,
        )
    )
    return step, title


def record_export(db: Session, actor: Actor, report: DailyReport, fmt: str) -> None:
    """Only an approved report leaves the system, and every copy is audited."""
    if report.status != ReportStatus.APPROVED:
        raise ReportError("日报审批完成后才能导出或打印")
    audit.record(db, actor, "report.export", record_type="report", record_id=report.id, format=fmt)


def _locked(db: Session, report: DailyReport) -> DailyReport:
    """The report re-read under a row lock (PostgreSQL), so two signatures never interleave."""
    stmt = select(DailyReport).where(DailyReport.id == report.id).with_for_update()
    return db.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def _clean(text: str, limit: int, what: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ReportError(f"{what}不能超过 {limit} 字")
    return text


# --- history --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    round: int
    action: str  # submit | approve | return
    step_title: str
    who: str
    at: datetime
    comment: str


def history(report: DailyReport) -> list[HistoryEntry]:
    """Every submission and every signature, oldest first."""
    entries = [
        HistoryEntry(s.round, "submit", "数据组", _name(s.submitted_by), s.at, "") for s in report.submissions
    ]
    entries += [
        HistoryEntry(a.round, a.decision.value, a.step_title, _name(a.approver), a.at, a.comment)
        for a in report.approvals
    ]
    return sorted(entries, key=lambda e: (e.round, e.action != "submit", e.at))


def _name(user: StaffUser) -> str:
    return user.display_name or user.username


@dataclass(frozen=True)
class Step:
    index: int
    title: str
    state: str  # approved | waiting | pending | returned
    approval: ReportApproval | None


def steps(report: DailyReport) -> list[Step]:
    """The chain of the current round, each step with its signature if signed."""
    signed = {a.step: a for a in report.approvals if a.round == report.round}
    out = []
    for index, title in enumerate(report.chain):
        approval = signed.get(index)
        if approval is not None:
            state = "approved" if approval.decision == Decision.APPROVE else "returned"
        elif report.status == ReportStatus.IN_APPROVAL and index == report.approval_step:
            state = "waiting"
        else:
            state = "pending"
        out.append(Step(index, title, state, approval))
    return out
