"""The residents list and the resident page: timeline, reveal, edit with a reason, transfer.

Another jurisdiction's resident answers 404 on every route (``_visible_or_404``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from bot.clock import local_today
from bot.models import Resident
from bot.services import audit, linelists, resident_changes, residents, timeline
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.residents import bp
from web.residents.forms import EditForm, RevealForm, TransferForm
from web.roles import actor, my_scope, require


def _visible_or_404(resident_id: int) -> Resident:
    resident = residents.get_visible(get_db(), my_scope(), resident_id)
    if resident is None:
        abort(404)
    return resident


def _today() -> Any:
    return local_today(runtime().settings.tz)


@bp.route("/")
@require(Permission.VIEW_RESIDENTS)
def index() -> ResponseReturnValue:
    page = residents.list_page(
        get_db(), my_scope(), page=request.args.get("page", 1, type=int), q=request.args.get("q", "")
    )
    return render_template("residents/index.html", page=page, q=request.args.get("q", ""))


def _show(resident: Resident, revealed: dict[str, str] | None = None) -> ResponseReturnValue:
    events = timeline.for_resident(get_db(), resident, runtime().settings.tz)
    return render_template(
        "residents/show.html",
        resident=resident,
        events=events,
        revealed=revealed or {},
        reveal_form=RevealForm(formdata=None),
        revealable=residents.REVEALABLE,
        tz=runtime().settings.tz,
    )


@bp.route("/<int:resident_id>")
@require(Permission.VIEW_RESIDENTS)
def show(resident_id: int) -> ResponseReturnValue:
    db = get_db()
    resident = _visible_or_404(resident_id)
    audit.record(db, actor(), "resident.view", record_type="resident", record_id=resident.id)
    db.commit()
    return _show(resident)


@bp.route("/<int:resident_id>/reveal", methods=["POST"])
@require(Permission.REVEAL_PII)
def reveal(resident_id: int) -> ResponseReturnValue:
    """One identifier in clear: JSON for the page's script, else the page with it shown."""
    resident = _visible_or_404(resident_id)
    form = RevealForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_db()
    field = form.field.data or ""
    value = residents.reveal(db, actor(), resident, field)
    db.commit()
    wants_json = request.accept_mimetypes.best == "application/json"
    response = make_response(
        {"field": field, "value": value} if wants_json else _show(resident, {field: value})
    )
    response.headers["Cache-Control"] = "no-store"  # a revealed value is never cached
    return response


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RESIDENTS)
def edit(resident_id: int) -> ResponseReturnValue:
    resident = _visible_or_404(resident_id)
    form = EditForm(obj=resident if request.method == "GET" else None)
    if request.method == "GET":
        form.phone.data = form.id_number.data = ""  # never pre-filled in clear: empty keeps the value
    if form.validate_on_submit():
        db = get_db()
        try:
            changes = resident_changes.edit(
                db, actor(), resident, form.changed_values(), form.reason.data or "", today=_today()
            )
        except resident_changes.ResidentChangeError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash(f"已保存 {len(changes)} 项修改。", "success")
            return redirect(url_for("residents.show", resident_id=resident.id))
    return render_template("residents/edit.html", resident=resident, form=form)


@bp.route("/<int:resident_id>/transfer", methods=["GET", "POST"])
@require(Permission.EDIT_RESIDENTS)
def transfer(resident_id: int) -> ResponseReturnValue:
    resident = _visible_or_404(resident_id)
    db = get_db()
    form = TransferForm()
    stations = linelists.filter_choices(db, my_scope()).stations
    form.station_id.choices = [SelectChoice(i, n) for i, n in stations if i != resident.station_id]
    if form.validate_on_submit():
        try:
            station = resident_changes.transfer(
                db,
                actor(),
                my_scope(),
                resident,
                form.station_id.data or 0,
                form.reason.data or "",
                today=_today(),
            )
        except resident_changes.ResidentChangeError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash(f"已转至{station.name}。", "success")
            return redirect(url_for("residents.show", resident_id=resident.id))
    return render_template("residents/transfer.html", resident=resident, form=form)
