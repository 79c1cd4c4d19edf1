"""The dashboard: role-aware figures and charts within the viewer's jurisdiction, and the lead lists.

Routes live in ``routes`` (the dashboard) and ``lists`` (lead line lists); each registers on
``bp`` when imported. ``init_app`` also installs the line-list template globals.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("dashboard", __name__)

# Register the routes on bp (one statement each: mypy trips over the import cycle otherwise).
from web.dashboard import routes  # noqa: E402, F401, I001
from web.dashboard import lists  # noqa: E402, F401


def init_app(app: Flask) -> None:
    from web import linelists

    linelists.init_app(app)
    app.register_blueprint(bp)
