"""Advisories in the panel: list, compose, check and preview, approve, schedule, send, follow, reach."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm import Session

from bot.clock import now_utc
from bot.models import Advisory, AdvisoryTemplate
from bot.models.advisory import AdvisoryAudience
from bot.models.enums import AdvisoryStatus, Decision, JurisdictionKind
from bot.services import advisories, advisory_reach, advisory_sending, advisory_targets, jurisdictions
from bot.services.advisories import AdvisoryError, Draft, NotAllowed
from bot.services.advisory_cover import CoverProblem, prepare_cover
from bot.services.advisory_payloads import KIND_LABELS
from bot.services.advisory_targets import Targeting
from bot.services.advisory_text import TemplateProblem
from bot.services.permissions import Permission
from web.advisories.forms import NONE, ActionForm, AdvisoryForm, DecisionForm, ScheduleForm, options
from web.db import get_db, runtime
from web.public.advisory import page_context
from web.roles import actor, can, me, require

bp = Blueprint("advisories", __name__, url_prefix="/advisories")
START_STATES = advisory_sending.STARTED | {AdvisoryStatus.CANCELLED}


def _get(advisory_id: int) -> Advisory:
    advisory = advisories.get(get_db(), advisory_id)
    if advisory is None:
        abort(404)
    return advisory


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "advisory_status_labels": advisories.STATUS_LABELS,
        "group_kind_labels": KIND_LABELS,
        "chain_role_label": advisories.role_label,
        "delivery_labels": {status.value: label for status, label in advisory_sending.STATUS_LABELS.items()},
    }


@bp.route("/")
@require(Permission.VIEW_ADVISORIES)
def index() -> ResponseReturnValue:
    db = get_db()
    items = advisories.list_recent(db)
    return render_template(
        "advisories/index.html",
        items=items,
        reach=advisory_reach.totals_by_advisory(db, items),
        total_forwards=advisory_reach.total_forwards(db),
        tz=runtime().settings.tz,
    )


# -- composing ------------------------------------------------------------------------------------------


def _prepare(form: AdvisoryForm) -> None:
    db = get_db()
    form.set_target_choices(
        jurisdictions.all_of_kind(db, JurisdictionKind.TOWNSHIP), advisory_targets.all_groups(db)
    )
    audiences = [(a.id, a.name) for a in advisory_targets.list_audiences(db)]
    form.audience_id.choices = options([(0, NONE), *audiences])


def _draft(form: AdvisoryForm) -> Draft:
    targeting = form.targeting()
    audience = get_db().get(AdvisoryAudience, form.audience_id.data) if form.audience_id.data else None
    if audience is not None:  # the saved selection, plus what was added or excluded by hand
        saved = Targeting.from_json(audience.targets)
        targeting = Targeting(
            kinds=saved.kinds,
            township_ids=saved.township_ids,
            group_ids=saved.group_ids | targeting.group_ids,
            exclude_group_ids=saved.exclude_group_ids | targeting.exclude_group_ids,
        )
    upload = form.cover.data
    cover = prepare_cover(upload.read()) if upload and getattr(upload, "filename", "") else None
    return Draft(
        title=form.title.data or "",
        body=form.body.data or "",
        body_format=form.body_format.data or "text",
        link_url=form.link_url.data or "",
        targets=targeting,
        cover=cover,
        remove_cover=bool(form.remove_cover.data),
    )


def _save(form: AdvisoryForm, save: Callable[[Session, Draft], Advisory]) -> ResponseReturnValue | None:
    """Validate and save; None when the form must be shown again (with its errors)."""
    if not form.validate_on_submit():
        return None
    db = get_db()
    try:
        advisory = save(db, _draft(form))
    except (AdvisoryError, CoverProblem) as exc:
        db.rollback()
        flash(str(exc), "error")
        return None
    db.commit()
    flash("已保存。请检查下方各渠道预览和发送对象，然后提交审批。", "info")
    return redirect(url_for(".show", advisory_id=advisory.id))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def new() -> ResponseReturnValue:
    form = AdvisoryForm()
    _prepare(form)
    template_id = request.args.get("template", type=int)
    if request.method == "GET" and template_id:
        template = get_db().get(AdvisoryTemplate, template_id)
        if template is not None:
            form.title.data, form.body.data, form.body_format.data = (
                template.title,
                template.body,
                template.body_format,
            )
    saved = _save(form, lambda db, draft: advisories.create(db, actor(), draft))
    templates = advisories.list_templates(get_db())
    return saved or render_template("advisories/form.html", form=form, advisory=None, templates=templates)


@bp.route("/<int:advisory_id>/edit", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def edit(advisory_id: int) -> ResponseReturnValue:
    advisory = _get(advisory_id)
    if advisory.status not in advisories.EDITABLE:
        flash("只有草稿或被退回的倡议书可以修改。", "error")
        return redirect(url_for(".show", advisory_id=advisory.id))
    form = AdvisoryForm(obj=advisory)
    _prepare(form)
    if request.method == "GET":
        form.fill_targets(Targeting.from_json(advisory.targets))

    def save(db: Session, draft: Draft) -> Advisory:
        advisories.update(db, actor(), advisory, draft)
        return advisory

    return _save(form, save) or render_template(
        "advisories/form.html", form=form, advisory=advisory, templates=[]
    )


# -- the advisory's page --------------------------------------------------------------------------------


@bp.route("/<int:advisory_id>")
@require(Permission.VIEW_ADVISORIES)
def show(advisory_id: int) -> ResponseReturnValue:
    db, settings = get_db(), runtime().settings
    advisory = _get(advisory_id)
    started = advisory.started_at is not None
    schedule_form = ScheduleForm()
    if advisory.scheduled_at and request.method == "GET":
        schedule_form.at.data = advisory.scheduled_at.astimezone(settings.tz).replace(tzinfo=None)
    return render_template(
        "advisories/show.html",
        advisory=advisory,
        check=advisories.check(db, settings, advisory, now_utc()),
        steps=advisories.steps(settings, advisory),
        history=advisory.approvals,
        may_decide=advisories.refusal(settings, me(), advisory) is None,
        decision_form=DecisionForm(),
        schedule_form=schedule_form,
        action_form=ActionForm(),
        progress=advisory_sending.progress(db, advisory) if started else None,
        target_rows=advisory_sending.targets(db, advisory) if started else [],
        reach=advisory_reach.reach_table(db, advisory) if started else None,
        can_compose=can(Permission.COMPOSE_ADVISORIES),
        can_stop=can(Permission.COMPOSE_ADVISORIES) or can(Permission.APPROVE_ADVISORIES),
        tz=settings.tz,
    )


def _act(advisory_id: int, action: Callable[[Session, Advisory], str]) -> ResponseReturnValue:
    """Run one state change on the advisory and come back to its page with what happened."""
    db = get_db()
    advisory = _get(advisory_id)
    try:
        message = action(db, advisory)
    except NotAllowed as exc:
        db.rollback()
        abort(403, str(exc))
    except AdvisoryError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        flash(message, "info")
        if advisory.status == AdvisoryStatus.SENDING:
            runtime().notify_outbox()
    return redirect(url_for(".show", advisory_id=advisory_id))


@bp.route("/<int:advisory_id>/submit", methods=["POST"])
@require(Permission.COMPOSE_ADVISORIES)
def submit(advisory_id: int) -> ResponseReturnValue:
    def run(db: Session, advisory: Advisory) -> str:
        advisories.submit(db, runtime().settings, actor(), advisory, now_utc())
        return "已提交审批。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/decide", methods=["POST"])
@require(Permission.VIEW_ADVISORIES)
def decide(advisory_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)

    def run(db: Session, advisory: Advisory) -> str:
        decision = Decision(form.decision.data)
        advisories.decide(
            db, runtime().settings, me(), actor(), advisory, decision, form.comment.data or "", now_utc()
        )
        return "已同意。" if decision == Decision.APPROVE else "已退回，并通知撰写人修改。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/schedule", methods=["POST"])
@require(Permission.COMPOSE_ADVISORIES)
def schedule(advisory_id: int) -> ResponseReturnValue:
    form = ScheduleForm()
    settings = runtime().settings
    if not form.validate_on_submit() or form.at.data is None:
        flash("请选择计划发送时间。", "error")
        return redirect(url_for(".show", advisory_id=advisory_id))
    at = form.at.data.replace(tzinfo=settings.tz)

    def run(db: Session, advisory: Advisory) -> str:
        advisories.schedule(db, settings, actor(), advisory, at, now_utc())
        return f"已排期：{at:%Y-%m-%d %H:%M} 发送。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/send-now", methods=["POST"])
@require(Permission.COMPOSE_ADVISORIES)
def send_now(advisory_id: int) -> ResponseReturnValue:
    settings = runtime().settings

    def run(db: Session, advisory: Advisory) -> str:
        now = now_utc()
        advisories.schedule(db, settings, actor(), advisory, now, now)
        started = advisory_sending.start(db, settings, actor(), advisory, now)
        return f"开始发送：{started.targets} 个发送对象。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/cancel", methods=["POST"])
@login_required
def cancel(advisory_id: int) -> ResponseReturnValue:
    if not (can(Permission.COMPOSE_ADVISORIES) or can(Permission.APPROVE_ADVISORIES)):
        abort(403)

    def run(db: Session, advisory: Advisory) -> str:
        stopped = advisories.cancel(db, actor(), advisory, now_utc())
        return f"已撤销，{stopped} 条尚未发出的消息已取消。" if stopped else "已撤销。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/resend", methods=["POST"])
@require(Permission.COMPOSE_ADVISORIES)
def resend(advisory_id: int) -> ResponseReturnValue:
    def run(db: Session, advisory: Advisory) -> str:
        count = advisory_sending.resend_failed(db, actor(), advisory)
        return f"已重新发送 {count} 个失败的目标。" if count else "没有发送失败的目标。"

    return _act(advisory_id, run)


@bp.route("/<int:advisory_id>/progress.json")
@require(Permission.VIEW_ADVISORIES)
def progress(advisory_id: int) -> ResponseReturnValue:
    state = advisory_sending.progress(get_db(), _get(advisory_id))
    return jsonify({**state.as_json(), "status_label": advisories.STATUS_LABELS[state.status]})


@bp.route("/<int:advisory_id>/reach.json")
@require(Permission.VIEW_ADVISORIES)
def reach(advisory_id: int) -> ResponseReturnValue:
    return jsonify(advisory_reach.timeline(get_db(), runtime().settings, _get(advisory_id)))


@bp.route("/<int:advisory_id>/page")
@require(Permission.VIEW_ADVISORIES)
def page_preview(advisory_id: int) -> ResponseReturnValue:
    """The public mobile page as it will look (nothing counted, the share button inert)."""
    advisory = _get(advisory_id)
    try:
        context = page_context(get_db(), runtime().settings, advisory, advisory.public_token, now_utc())
    except (AdvisoryError, TemplateProblem) as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", advisory_id=advisory_id))
    cover = url_for(".cover", advisory_id=advisory.id) if advisory.cover_type else ""
    return render_template("public/advisory.html", **context, cover=cover, preview=True)


@bp.route("/<int:advisory_id>/cover")
@require(Permission.VIEW_ADVISORIES)
def cover(advisory_id: int) -> ResponseReturnValue:
    advisory = _get(advisory_id)
    if not advisory.cover_type or advisory.cover_image is None:
        abort(404)
    return Response(advisory.cover_image, mimetype=advisory.cover_type)


# -- manual-forwarding tasks: any signed-in staff member sees their own ----------------------------------


@bp.route("/tasks")
@login_required
def tasks() -> ResponseReturnValue:
    items = advisory_sending.tasks_for(get_db(), runtime().settings, me())
    return render_template("advisories/tasks.html", tasks=items, action_form=ActionForm())


@bp.route("/tasks/<int:delivery_id>/done", methods=["POST"])
@login_required
def task_done(delivery_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        advisory_sending.mark_forwarded(db, me(), actor(), delivery_id, now_utc())
    except NotAllowed:
        abort(404)  # someone else's task: its existence is not disclosed
    except AdvisoryError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".tasks"))
    db.commit()
    flash("已标记为转发完成，谢谢！", "info")
    return redirect(url_for(".tasks"))
