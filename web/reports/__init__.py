"""The daily report: history, review by the data clerk, level-by-level approval, print and .xlsx."""

from __future__ import annotations

from flask import Flask

from web.reports.routes import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
