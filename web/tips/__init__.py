"""The tips area of the panel: cyber-police review of rumor tips (see ``routes``)."""

from __future__ import annotations

from flask import Flask

from bot.models import Lead
from bot.services import tip_queue
from bot.services.tip_queue import LeadTipSummary
from web.db import get_db
from web.tips.routes import bp

__all__ = ["bp", "init_app"]


def tip_lead_summary(lead: Lead) -> LeadTipSummary | None:
    """For templates/leads/_tip_detail.html: a tip lead's cluster, as a station may see it."""
    return tip_queue.lead_summary(get_db(), lead)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["tip_lead_summary"] = tip_lead_summary
