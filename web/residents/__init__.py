"""Residents: the scoped list, the resident page (timeline, edit, transfer, reveal) and resident line lists.

Routes live in sibling modules (``routes``: the list and the resident page; ``lists``: the
line lists); each registers on ``bp`` when imported.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("residents", __name__, url_prefix="/residents")

# Register the routes on bp (one statement each: mypy trips over the import cycle otherwise).
from web.residents import routes  # noqa: E402, F401, I001
from web.residents import lists  # noqa: E402, F401
from web.residents import upload  # noqa: E402, F401


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
