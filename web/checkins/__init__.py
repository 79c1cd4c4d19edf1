"""Check-ins in the panel (the phone list with its call form, the check-in line lists, QR codes for
binding) and the residents' mobile check-in page ``/h5/checkin`` (public, its own blueprint).

Routes live in sibling modules (``routes``: the panel; ``h5``: the mobile page); each registers
on its blueprint when imported.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("checkins", __name__, url_prefix="/checkins")
h5_bp = Blueprint("h5", __name__, url_prefix="/h5")

# Register the routes on bp and h5_bp (two statements: mypy trips over the import cycle otherwise).
from web.checkins import routes  # noqa: E402, F401, I001
from web.checkins import h5  # noqa: E402, F401


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(h5_bp)
