"""Cyber-police review of rumor tips: the queue, a cluster's page and its actions, media, evidence."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from bot.clock import local_today, now_utc
from bot.db import begin_immediate
from bot.models import ClusterStatus, Jurisdiction, JurisdictionKind, Tip, TipCluster
from bot.services import audit, tip_evidence, tip_queue, tip_review
from bot.services.labels import label
from bot.services.permissions import Permission
from bot.services.tip_review import ReviewError
from web.db import get_db, runtime
from web.roles import actor, me, require
from web.tips.forms import ActionForm, DecideForm, LeadForm, MergeForm, ReopenForm, SplitForm, station_choices

bp = Blueprint("tips", __name__, url_prefix="/tips")
STATUS_FILTERS = {"open": "待处理", "decided": "已有结论", "all": "全部"}
SORTS = {"new": "最新", "big": "举报人最多"}
HISTORY_LABELS = {
    "claim": "领取",
    "release": "释放",
    "status": "开始核查",
    "decide": "定论",
    "reopen": "重新核查",
    "merge_out": "并入其他组",
    "merge_in": "合并进来",
    "split_out": "拆出新组",
    "split_in": "拆分产生",
    "lead": "转派出所",
    "advisory": "生成倡议书草稿",
}


def _cluster(cluster_id: int) -> TipCluster:
    cluster = get_db().get(TipCluster, cluster_id)
    if cluster is None:
        abort(404)
    return cluster


def _back(cluster_id: int) -> ResponseReturnValue:
    return redirect(url_for("tips.cluster", cluster_id=cluster_id))


def _act(cluster_id: int, form: FlaskForm, step: Callable[[TipCluster], str]) -> ResponseReturnValue:
    """Run one review step on a valid POST: commit and say what happened, or show why not."""
    begin_immediate(get_db())  # SQLite: hold the write lock from the first read, so the step cannot deadlock
    cluster = _cluster(cluster_id)
    if not form.validate_on_submit():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        flash("；".join(map(str, errors)) or "请求无效，请重试", "error")
        return _back(cluster_id)
    db = get_db()
    try:
        done = step(cluster)
    except ReviewError as exc:
        db.rollback()
        flash(str(exc), "error")
        return _back(cluster_id)
    db.commit()
    runtime().notify_outbox()  # a decision or a merge may have queued verdicts for reporters
    flash(done, "success")
    return _back(cluster.merged_into_id or cluster_id)


@bp.route("/")
@require(Permission.REVIEW_TIPS)
def queue() -> ResponseReturnValue:
    status = request.args.get("status", "open")
    sort = request.args.get("sort", "new")
    status = status if status in STATUS_FILTERS else "open"
    sort = sort if sort in SORTS else "new"
    page = tip_queue.queue(
        get_db(),
        runtime().settings,
        now=now_utc(),
        status=status,  # type: ignore[arg-type]
        sort=sort,  # type: ignore[arg-type]
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "tips/queue.html",
        page=page,
        status=status,
        sort=sort,
        filters=STATUS_FILTERS,
        sorts=SORTS,
        tz=runtime().settings.tz,
    )


@bp.route("/clusters/<int:cluster_id>")
@require(Permission.REVIEW_TIPS)
def cluster(cluster_id: int) -> ResponseReturnValue:
    db = get_db()
    found = _cluster(cluster_id)
    if found.merged_into_id is not None:
        flash(f"线索组 #{found.id} 已并入 #{found.merged_into_id}", "info")
        return _back(found.merged_into_id)
    settings = runtime().settings
    view = tip_queue.cluster_view(db, settings, found, now=now_utc())
    audit.record(db, actor(), "tips.view", record_type="tip_cluster", record_id=found.id)
    db.commit()
    lead_form = LeadForm()
    lead_form.station_id.choices = station_choices(db)
    if not lead_form.due_date.data:
        lead_form.due_date.data = local_today(settings.tz)
    decide_form = DecideForm()
    if not decide_form.verdict.data:
        decide_form.verdict.data = str(ClusterStatus.RUMOR)
    return render_template(
        "tips/cluster.html",
        view=view,
        me_id=me().id,
        tz=settings.tz,
        action_form=ActionForm(),
        decide_form=decide_form,
        reopen_form=ReopenForm(),
        merge_form=MergeForm(),
        split_form=SplitForm(),
        lead_form=lead_form,
        decided=found.status in tip_review.VERDICTS,
        label=label,
        history_labels=HISTORY_LABELS,
    )


@bp.route("/media/<int:media_id>")
@require(Permission.REVIEW_TIPS)
def media(media_id: int) -> ResponseReturnValue:
    db = get_db()
    found = tip_queue.media_content(db, media_id)
    if found is None:
        abort(404)
    item, cluster_id = found
    audit.record(
        db, actor(), "tips.media", record_type="tip_cluster", record_id=cluster_id or "", media=item.id
    )
    db.commit()
    response = Response(item.content or b"", mimetype=item.content_type)
    disposition = "inline" if item.kind == "image" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="tip-media-{item.id}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/clusters/<int:cluster_id>/claim", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def claim(cluster_id: int) -> ResponseReturnValue:
    def step(c: TipCluster) -> str:
        tip_review.claim(get_db(), runtime().settings, actor(), c, now=now_utc())
        return "已领取，其他人会看到由您处理"

    return _act(cluster_id, ActionForm(), step)


@bp.route("/clusters/<int:cluster_id>/release", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def release(cluster_id: int) -> ResponseReturnValue:
    def step(c: TipCluster) -> str:
        tip_review.release(get_db(), runtime().settings, actor(), c, now=now_utc())
        return "已释放，其他人可以领取"

    return _act(cluster_id, ActionForm(), step)


@bp.route("/clusters/<int:cluster_id>/decide", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def decide(cluster_id: int) -> ResponseReturnValue:
    form = DecideForm()

    def step(c: TipCluster) -> str:
        queued = tip_review.decide(
            get_db(),
            runtime().settings,
            actor(),
            c,
            verdict=ClusterStatus(form.verdict.data),
            reason=form.reason.data or "",
            debunk=form.debunk.data or "",
            now=now_utc(),
        )
        return f"已定为「{tip_review.status_label(c.status)}」，已向 {queued} 位举报人发送结果"

    return _act(cluster_id, form, step)


@bp.route("/clusters/<int:cluster_id>/reopen", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def reopen(cluster_id: int) -> ResponseReturnValue:
    form = ReopenForm()

    def step(c: TipCluster) -> str:
        tip_review.reopen(
            get_db(), runtime().settings, actor(), c, reason=form.reason.data or "", now=now_utc()
        )
        return "已重新核查"

    return _act(cluster_id, form, step)


@bp.route("/clusters/<int:cluster_id>/merge", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def merge(cluster_id: int) -> ResponseReturnValue:
    form = MergeForm()

    def step(c: TipCluster) -> str:
        target = get_db().get(TipCluster, form.target_id.data or 0)
        if target is None or target.merged_into_id is not None:
            raise ReviewError("没有这个线索组，或它已并入别的组")
        moved = tip_review.merge(get_db(), runtime().settings, actor(), c, target, now=now_utc())
        return f"已把 {moved} 条举报并入线索组 #{target.id}"

    return _act(cluster_id, form, step)


@bp.route("/clusters/<int:cluster_id>/split", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def split(cluster_id: int) -> ResponseReturnValue:
    form = SplitForm()

    def step(c: TipCluster) -> str:
        part = tip_review.split(
            get_db(), runtime().settings, actor(), c, form.tip_ids.data or [], now=now_utc()
        )
        return f"已拆出为新的线索组 #{part.id}"

    return _act(cluster_id, form, step)


@bp.route("/clusters/<int:cluster_id>/lead", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def lead(cluster_id: int) -> ResponseReturnValue:
    form = LeadForm()
    form.station_id.choices = station_choices(get_db())

    def step(c: TipCluster) -> str:
        station = get_db().get(Jurisdiction, form.station_id.data)
        if station is None or station.kind != JurisdictionKind.STATION or form.due_date.data is None:
            raise ReviewError("请选择派出所和办理期限")
        made, created = tip_review.create_lead(
            get_db(),
            runtime().settings,
            actor(),
            c,
            station=station,
            due_date=form.due_date.data,
            task=form.task.data or "",
            now=now_utc(),
        )
        return (
            f"已转{station.name}（线索 #{made.id}）"
            if created
            else f"{station.name}已有本组的线索 #{made.id}"
        )

    return _act(cluster_id, form, step)


@bp.route("/clusters/<int:cluster_id>/advisory", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def advisory(cluster_id: int) -> ResponseReturnValue:
    def step(c: TipCluster) -> str:
        made, created = tip_review.debunk_to_advisory(get_db(), actor(), c)
        return f"已生成倡议书草稿 #{made.id}，请宣传部门审核发送" if created else f"已有倡议书草稿 #{made.id}"

    return _act(cluster_id, ActionForm(), step)


@bp.route("/tips/<int:tip_id>/block", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def block(tip_id: int) -> ResponseReturnValue:
    tip = get_db().get(Tip, tip_id)
    if tip is None or tip.cluster_id is None:
        abort(404)
    blocked = request.form.get("blocked") == "1"

    def step(_c: TipCluster) -> str:
        tip_review.set_reporter_blocked(get_db(), actor(), tip, blocked=blocked)
        return "已限制该举报人继续举报" if blocked else "已恢复该举报人的举报功能"

    return _act(tip.cluster_id, ActionForm(), step)


@bp.route("/clusters/<int:cluster_id>/export", methods=["POST"])
@require(Permission.REVIEW_TIPS)
def export(cluster_id: int) -> ResponseReturnValue:
    found = _cluster(cluster_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    archive = tip_evidence.export(db, runtime().settings, actor(), found, now=now_utc())
    db.commit()
    response = Response(archive.content, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    response.headers["X-Archive-SHA256"] = archive.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
