"""The dashboard: live counts within the viewer's jurisdiction."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue

from bot.clock import local_today
from bot.services import stats
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.roles import my_scope, require

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@require(Permission.VIEW_DASHBOARD)
def index() -> ResponseReturnValue:
    today = local_today(runtime().settings.tz)
    overview = stats.overview(get_db(), my_scope(), today)
    return render_template("dashboard/index.html", overview=overview, today=today)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
