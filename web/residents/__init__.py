"""Residents: a scoped, masked list and a detail page."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template, request
from flask.typing import ResponseReturnValue

from bot.services import audit, residents
from bot.services.permissions import Permission
from web.db import get_db
from web.roles import actor, my_scope, require

bp = Blueprint("residents", __name__, url_prefix="/residents")


@bp.route("/")
@require(Permission.VIEW_RESIDENTS)
def index() -> ResponseReturnValue:
    page = residents.list_page(
        get_db(), my_scope(), page=request.args.get("page", 1, type=int), q=request.args.get("q", "")
    )
    return render_template("residents/index.html", page=page, q=request.args.get("q", ""))


@bp.route("/<int:resident_id>")
@require(Permission.VIEW_RESIDENTS)
def show(resident_id: int) -> ResponseReturnValue:
    db = get_db()
    resident = residents.get_visible(db, my_scope(), resident_id)
    if resident is None:
        abort(404)
    audit.record(db, actor(), "resident.view", record_type="resident", record_id=resident.id)
    db.commit()
    return render_template("residents/show.html", resident=resident)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
