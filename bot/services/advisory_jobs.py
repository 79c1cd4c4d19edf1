"""The ``advisories_due`` job (every 30 s): send scheduled advisories that are due, close finished ones.

It is the edge for these services: it commits. Running it twice sends nothing twice: a started advisory is
no longer "scheduled", and every target's outbox key (``advisory:<id>:group:<gid>``) is unique.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db import begin_immediate
from bot.models.enums import AdvisoryStatus
from bot.runtime import Runtime
from bot.services import advisory_sending, audit
from bot.services.advisories import AdvisoryError
from bot.services.audit import SYSTEM


def advisories_due(rt: Runtime, now: datetime) -> dict[str, Any]:
    started: list[int] = []
    refused: dict[int, str] = {}
    queued = 0
    with rt.session() as db:
        begin_immediate(db)
        for advisory in advisory_sending.due(db, now):
            try:
                with db.begin_nested():
                    queued += advisory_sending.start(db, rt.settings, SYSTEM, advisory, now).queued
                started.append(advisory.id)
            except AdvisoryError as exc:
                # Unschedule, so it is not retried every 30 s; staff see why and schedule it again.
                advisory.status, advisory.scheduled_at = AdvisoryStatus.APPROVED, None
                audit.record(
                    db,
                    SYSTEM,
                    "advisory.send_refused",
                    record_type="advisory",
                    record_id=advisory.id,
                    reason=str(exc),
                )
                refused[advisory.id] = str(exc)
        finished = [a.id for a in advisory_sending.sending(db) if advisory_sending.finish_if_done(db, a, now)]
    if queued:
        rt.notify_outbox()
    return {"started": started, "queued": queued, "finished": finished, "refused": refused}
