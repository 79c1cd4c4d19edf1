"""The public area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("public", __name__)


def init_app(app: Flask) -> None:
    from web.public import advisory, report

    app.register_blueprint(bp)
    advisory.init_app(app)
    report.init_app(app)
