"""The outbox sweep job: rows of dead workers back to the queue, and delivery woken."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.models import OutboxMessage, OutboxStatus
from bot.runtime import Runtime
from bot.services import outbox


def outbox_sweep(rt: Runtime, now: datetime) -> dict[str, Any]:
    with rt.session() as db:
        lease = timedelta(seconds=rt.settings.delivery.sending_lease_seconds)
        reclaimed = outbox.reclaim_stale(db, lease=lease, now=now)
        due = db.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now
            )
        )
    if due:
        rt.notify_outbox()
    return {"reclaimed": reclaimed, "due": due or 0}
