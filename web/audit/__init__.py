"""The audit area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("audit", __name__, url_prefix="/audit")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
