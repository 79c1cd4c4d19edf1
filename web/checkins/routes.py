"""The phone list with its call form, the check-in line lists, and QR codes for binding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot.channels.base import DeliveryError
from bot.channels.official_account import QR_TEMPORARY_SECONDS, OfficialAccountApi
from bot.channels.tokens import TokenStore
from bot.clock import now_utc
from bot.models import Checkin, Health, Jurisdiction, JurisdictionKind, QrScene, VisitOutcome
from bot.services import audit, binding, linelists, phone_calls, residents
from bot.services.labels import label
from bot.services.permissions import Permission
from web import linelists as pages
from web.checkins import bp
from web.checkins.forms import CallForm, QrForm
from web.db import get_db, runtime
from web.residents.forms import RevealForm
from web.roles import actor, ensure_station_visible, my_scope, require

pages.mount(bp)  # 当日签到, 未回复, 异常 and the plain phone list under /checkins/lists/<name>
QR_IMAGE_MAX_BYTES = 1024 * 1024


@bp.route("/phone-list")
@require(Permission.RECORD_VISITS)
def phone_list() -> ResponseReturnValue:
    """Today's phone list of the viewer's stations, a call form on every row."""
    return pages.render_list(
        linelists.LISTS["phone_list"],
        "checkins/calls.html",
        call_form=CallForm(formdata=None),
        reveal_form=RevealForm(formdata=None),
        back_args=request.args.to_dict(),
    )


def _call(form: CallForm) -> phone_calls.Call:
    return phone_calls.Call(
        outcome=VisitOutcome(form.outcome.data),
        health=Health(form.health.data) if form.outcome.data == VisitOutcome.REACHED else None,
        whereabouts=form.whereabouts.data if form.whereabouts.data in ("moved", "returned") else "unchanged",
        city=form.city.data or "",
        note=form.note.data or "",
    )


@bp.route("/calls/<int:checkin_id>", methods=["POST"])
@require(Permission.RECORD_VISITS)
def record_call(checkin_id: int) -> ResponseReturnValue:
    args: dict[str, Any] = request.args.to_dict()
    back = url_for("checkins.phone_list", **args)
    db = get_db()
    checkin = db.get(Checkin, checkin_id)
    if checkin is None:
        abort(404)
    ensure_station_visible(checkin.station_id)
    form = CallForm()
    if not form.validate_on_submit():
        flash("提交无效，请刷新页面后重试。", "error")
        return redirect(back)
    try:
        done = phone_calls.record(
            db, runtime().settings, actor(), checkin.resident, checkin, _call(form), now_utc()
        )
    except phone_calls.CallError as exc:
        flash(str(exc), "error")
        return redirect(back)
    db.commit()
    what = label("visit_outcome", done.visit.outcome)
    extra = "，已计入今日签到" if done.counted else ""
    extra += f"，生成 {done.leads} 条线索" if done.leads else ""
    flash(f"已记录 {checkin.resident.name}：{what}{extra}。")
    return redirect(back)


# --- QR codes for binding -------------------------------------------------------------------------


@contextmanager
def official_account() -> Iterator[tuple[OfficialAccountApi, TokenStore]]:
    store = TokenStore(runtime())
    try:
        yield OfficialAccountApi(runtime(), store), store
    finally:
        store.close()


def _current(scene: QrScene | None, permanent: bool) -> bool:
    if scene is None or not scene.ticket:
        return False
    return permanent or now_utc() - scene.created_at < timedelta(seconds=QR_TEMPORARY_SECONDS - 86400)


def _qr_page(scene: QrScene | None, *, title: str, permanent: bool, action: str) -> ResponseReturnValue:
    return render_template(
        "checkins/qr.html",
        scene=scene if _current(scene, permanent) else None,
        title=title,
        permanent=permanent,
        action=action,
        form=QrForm(),
    )


def _issue(scene: QrScene, permanent: bool) -> bool:
    """Ask WeChat for the scene's QR code; False (and a message) when WeChat refused."""
    try:
        with official_account() as (api, _store):
            scene.ticket, _ = api.create_qr_scene(scene.scene, permanent)
    except DeliveryError as exc:
        flash(f"生成二维码失败：{exc.explanation_zh}", "error")
        return False
    scene.created_at = now_utc()
    return True


def _qr_view(
    scene_of: QrScene | None, make: QrScene | None, *, title: str, permanent: bool
) -> ResponseReturnValue:
    if request.method == "GET":
        return _qr_page(scene_of, title=title, permanent=permanent, action=request.path)
    form = QrForm()
    if not form.validate_on_submit() or make is None:
        abort(400)
    db = get_db()
    if _issue(make, permanent):
        audit.record(db, actor(), "qr.create", record_type="qr_scene", record_id=make.id)
        db.commit()
    return redirect(request.path)


@bp.route("/qr/resident/<int:resident_id>", methods=["GET", "POST"])
@require(Permission.VIEW_RESIDENTS)
def resident_qr(resident_id: int) -> ResponseReturnValue:
    """A resident's own QR code: scanning it to follow the account binds them (valid 30 days)."""
    db = get_db()
    resident = residents.get_visible(db, my_scope(), resident_id)
    if resident is None:
        abort(404)
    existing = db.scalar(select(QrScene).where(QrScene.resident_id == resident.id))
    make = binding.scene_for_resident(db, resident) if request.method == "POST" else None
    return _qr_view(existing, make, title=f"{resident.name} 的绑定二维码", permanent=False)


@bp.route("/qr/station/<int:station_id>", methods=["GET", "POST"])
@require(Permission.VIEW_RESIDENTS)
def station_qr(station_id: int) -> ResponseReturnValue:
    """A station's QR code (permanent): scanning it starts binding among that station's residents."""
    db = get_db()
    station = db.get(Jurisdiction, station_id)
    if station is None or station.kind != JurisdictionKind.STATION:
        abort(404)
    ensure_station_visible(station.id)
    existing = db.scalar(
        select(QrScene).where(QrScene.station_id == station.id, QrScene.resident_id.is_(None))
    )
    make = binding.scene_for_station(db, station.id) if request.method == "POST" else None
    return _qr_view(existing, make, title=f"{station.name} 绑定二维码", permanent=True)


@bp.route("/qr/<int:scene_id>.png")
@require(Permission.VIEW_RESIDENTS)
def qr_image(scene_id: int) -> ResponseReturnValue:
    """The QR image, fetched from WeChat through the server (the page may only load our own images)."""
    db = get_db()
    scene = db.get(QrScene, scene_id)
    if scene is None or not scene.ticket:
        abort(404)
    if scene.resident_id is not None:
        if residents.get_visible(db, my_scope(), scene.resident_id) is None:
            abort(404)
    else:
        ensure_station_visible(scene.station_id)
    try:
        with official_account() as (api, store):
            url = api.qr_image_url(scene.ticket)
            image, content_type = store.http.download(url, params={}, max_bytes=QR_IMAGE_MAX_BYTES)
    except DeliveryError:
        abort(503)
    return Response(image, mimetype=content_type, headers={"Cache-Control": "private, max-age=3600"})
