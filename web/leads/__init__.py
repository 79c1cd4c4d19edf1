"""Leads in the panel: the station's list (filters, overdue first), a lead's page, start and outcome.

Routes live in ``routes``, registered on ``bp`` when imported.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("leads", __name__, url_prefix="/leads")

from web.leads import routes  # noqa: E402, F401  - register the routes on bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
