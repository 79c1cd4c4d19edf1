"""The public area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("public", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
