"""The leads area of the panel."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("leads", __name__, url_prefix="/leads")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
