"""The advisories area of the panel: letters, their approval and sending, groups, templates, audiences."""

from __future__ import annotations

from flask import Flask

from web.advisories import library  # noqa: F401 - registers the registers' views on bp
from web.advisories.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
