"""The audit page: search the append-only log by person, record, action and time."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue

from bot.services import audit_search
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.roles import require

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@require(Permission.VIEW_AUDIT)
def index() -> ResponseReturnValue:
    db = get_db()
    tz = runtime().settings.tz
    query = audit_search.parse_query(request.args.to_dict())
    return render_template(
        "audit/index.html",
        query=query,
        page=audit_search.search(db, query, tz),
        actions=audit_search.known_actions(db),
        describe=audit_search.describe,
        detail_text=audit_search.detail_text,
        tz=tz,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
