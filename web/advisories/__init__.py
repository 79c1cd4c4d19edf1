"""The advisories area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("advisories", __name__, url_prefix="/advisories")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
