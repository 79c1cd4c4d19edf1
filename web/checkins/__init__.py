"""The checkins area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("checkins", __name__, url_prefix="/checkins")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
