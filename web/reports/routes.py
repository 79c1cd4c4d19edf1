"""Views of the daily report. Each parses, calls one service, commits, renders or redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import local_today, now_utc
from bot.models import DailyReport
from bot.services import report_export, reports
from bot.services.permissions import Permission
from bot.services.report_layout import (
    DECISION_LABELS,
    REPORT_STATUS_LABELS,
    TABLES,
    format_cell,
    headlines,
)
from web.db import get_db, runtime
from web.reports.forms import ActionForm, DecisionForm, SummaryForm
from web.roles import actor, can, me, my_scope, require

bp = Blueprint("reports", __name__, url_prefix="/reports")
F = TypeVar("F", bound=FlaskForm)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def _labels() -> dict[str, object]:
    return {
        "status_labels": REPORT_STATUS_LABELS,
        "decision_labels": DECISION_LABELS,
        "tables": TABLES,
        "format_cell": format_cell,
    }


def _county_only() -> None:
    # The report covers every station: township and station accounts do not read it.
    if not reports.visible_to(my_scope()):
        abort(403)


def _report(day: str) -> DailyReport:
    _county_only()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    report = reports.get(get_db(), parsed)
    if report is None:
        abort(404)
    return report


def _back(report: DailyReport) -> ResponseReturnValue:
    return redirect(url_for("reports.show", day=report.day.isoformat()))


@bp.route("/")
@require(Permission.VIEW_REPORTS)
def index() -> ResponseReturnValue:
    _county_only()
    page = reports.history_page(get_db(), page=max(request.args.get("page", 1, type=int) or 1, 1))
    today = local_today(runtime().settings.tz)
    return render_template(
        "reports/index.html", page=page, today=today, tz=runtime().settings.tz, form=ActionForm()
    )


@bp.route("/draft", methods=["POST"])
@require(Permission.PREPARE_REPORTS)
def draft() -> ResponseReturnValue:
    _county_only()
    if not ActionForm().validate_on_submit():
        abort(400)
    settings = runtime().settings
    now = now_utc()
    db = get_db()
    report, outcome = reports.draft(db, local_today(settings.tz, now), tz=settings.tz, now=now)
    db.commit()
    if outcome == "frozen":
        flash("今日日报已不是草稿，数据未更新；已退回的日报可在本页「重新生成数据」。", "info")
    return _back(report)


@bp.route("/<day>")
@require(Permission.VIEW_REPORTS)
def show(day: str) -> ResponseReturnValue:
    report = _report(day)
    signer = can(Permission.APPROVE_REPORTS)
    refusal = reports.refusal(get_db(), me(), report) if signer else None
    return render_template(
        "reports/show.html",
        report=report,
        figures=report.figures,
        headlines=headlines(report.figures),
        steps=reports.steps(report),
        history=reports.history(report),
        tz=runtime().settings.tz,
        may_prepare=can(Permission.PREPARE_REPORTS) and report.status in reports.EDITABLE,
        may_sign=signer and refusal is None,
        refusal=refusal,
        action_form=ActionForm(),
        summary_form=SummaryForm(summary=report.summary),
        decision_form=DecisionForm(),
    )


@bp.route("/<day>/refresh", methods=["POST"])
@require(Permission.PREPARE_REPORTS)
def refresh(day: str) -> ResponseReturnValue:
    report = _report(day)
    if not ActionForm().validate_on_submit():
        abort(400)
    settings = runtime().settings
    return _apply(
        report,
        lambda db: reports.refresh(db, actor(), report, tz=settings.tz, now=now_utc()),
        "数据已重新生成。",
    )


def _posted(form: F, too_long: str) -> F | None:
    """The posted form when it validates; else None, with ``too_long`` flashed (length is its one rule)."""
    if form.validate_on_submit():
        return form
    flash(too_long, "error")
    return None


@bp.route("/<day>/summary", methods=["POST"])
@require(Permission.PREPARE_REPORTS)
def summary(day: str) -> ResponseReturnValue:
    report = _report(day)
    form = _posted(SummaryForm(), "情况说明过长。")
    if form is None:
        return _back(report)
    text = form.summary.data or ""
    if form.submit_report.data:
        chain = runtime().settings.reports.approval_chain
        return _apply(report, lambda db: reports.submit(db, actor(), report, text, chain), "已提交审批。")
    return _apply(report, lambda db: reports.save_summary(db, actor(), report, text), "已保存。")


@bp.route("/<day>/decide", methods=["POST"])
@require(Permission.APPROVE_REPORTS)
def decide(day: str) -> ResponseReturnValue:
    report = _report(day)
    form = _posted(DecisionForm(), "审批意见过长。")
    if form is None:
        return _back(report)
    comment = form.comment.data or ""
    step, done = (
        (reports.return_report, "已退回数据组。") if form.send_back.data else (reports.approve, "已签批。")
    )
    return _apply(report, lambda db: step(db, actor(), report, comment, now=now_utc()), done)


def _apply(report: DailyReport, change: Callable[[Session], None], done: str) -> ResponseReturnValue:
    """Run one workflow step, commit, and say how it went (a refusal is shown, not raised)."""
    db = get_db()
    try:
        change(db)
        db.commit()
    except reports.ReportError as exc:
        db.rollback()
        flash(str(exc), "error")
    except IntegrityError:  # another leader signed the same step a moment earlier
        db.rollback()
        flash("该环节已由他人处理，请刷新后查看。", "error")
    else:
        flash(done, "info")
    return _back(report)


def _exported(db: Session, report: DailyReport, how: str) -> bool:
    """Log the export; False, with the refusal flashed, when the report may not leave the panel yet."""
    try:
        reports.record_export(db, actor(), report, how)
    except reports.ReportError as exc:
        flash(str(exc), "error")
        return False
    return True


@bp.route("/<day>/export.xlsx")
@require(Permission.VIEW_REPORTS)
def export_xlsx(day: str) -> ResponseReturnValue:
    report = _report(day)
    db = get_db()
    if not _exported(db, report, "xlsx"):
        return _back(report)
    body = report_export.workbook_bytes(report, reports.history(report), runtime().settings.tz)
    db.commit()
    filename = f"daily-report-{report.day.isoformat()}.xlsx"
    return Response(
        body,
        mimetype=XLSX,
        headers={"Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store"},
    )


@bp.route("/<day>/print")
@require(Permission.VIEW_REPORTS)
def print_view(day: str) -> ResponseReturnValue:
    report = _report(day)
    db = get_db()
    if not _exported(db, report, "print"):
        return _back(report)
    db.commit()
    entries = [e for e in reports.history(report) if e.round == report.round and e.action == "approve"]
    return render_template(
        "reports/print.html",
        report=report,
        figures=report.figures,
        headlines=headlines(report.figures),
        signatures=entries,
        tz=runtime().settings.tz,
    )
