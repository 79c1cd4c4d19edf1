"""The tips area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("tips", __name__, url_prefix="/tips")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
