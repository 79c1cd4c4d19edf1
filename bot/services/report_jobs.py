"""The ``daily_report`` job: draft (or redraft) the day's report after the check-ins close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import local_today
from bot.runtime import Runtime
from bot.services import reports


def daily_report(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Idempotent for its day: a draft is recomputed, a submitted or approved report is left alone."""
    tz = rt.settings.tz
    day = local_today(tz, now)
    with rt.writer() as db:
        report, outcome = reports.draft(db, day, tz=tz, now=now)
        status = report.status.value
    return {"day": day.isoformat(), "outcome": outcome, "status": status}
