"""Deliver one claimed outbox row: rate gate, channel send, window fallback, result recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.base import Channel, DeliveryError
from bot.db import begin_immediate
from bot.delivery.rate import RateGate
from bot.metrics import DELIVERIES
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox

log = logging.getLogger(__name__)
# Waiting this long for a rate budget is done in place; longer waits put the row back.
MAX_INLINE_WAIT = 2.0


def deliver(
    rt: Runtime, row_id: int, channels: Mapping[str, Channel], gate: RateGate, worker: str | None = None
) -> OutboxStatus:
    """Send a row that this worker has claimed (status ``sending``) and record what happened.

    ``worker``, the name the row was claimed under, keeps a row that another worker reclaimed after the
    sending lease (while it waited in this worker's batch) from being sent by both.
    """
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        if row is None or row.status != OutboxStatus.SENDING:
            return row.status if row else OutboxStatus.CANCELLED
        channel_name, recipient, payload = row.channel, row.recipient, dict(row.payload)
        rate_key = row.rate_key
    # No transaction is open while waiting for a rate budget or for WeChat: no lock is held meanwhile.
    wait = _wait_for_budget(gate, rate_key)
    with rt.session() as db:
        begin_immediate(db)  # SQLite: write under the lock taken now, not from a stale read snapshot
        if not outbox.renew_claim(db, row_id, worker):
            return OutboxStatus.SENDING  # reclaimed: its new holder sends it
        if wait:
            outbox.postpone(db, _get(db, row_id), utcnow() + timedelta(seconds=wait))
            return OutboxStatus.QUEUED
    try:
        result_msgid = _send(channels, channel_name, recipient, payload)
        error: DeliveryError | None = None
    except DeliveryError as exc:
        result_msgid, error = "", exc
    except Exception as exc:  # a bug or an unexpected library error: keep the row, retry later
        log.exception("outbox row %s: unexpected error from channel %s", row_id, channel_name)
        result_msgid, error = "", DeliveryError(type(exc).__name__, transient=True)
    with rt.session() as db:
        begin_immediate(db)
        row = _get(db, row_id)
        DELIVERIES.labels(channel_name, "sent" if error is None else "error").inc()
        if error is None:
            outbox.record_sent(db, row, result_msgid)
        else:
            outbox.record_failure(
                db, row, errcode=error.errcode, error=error.explanation_zh, transient=error.transient
            )
            log.info("outbox row %s (%s) failed: %s", row_id, channel_name, error.explanation_zh)
        return row.status


def _get(db: Session, row_id: int) -> OutboxMessage:
    row = db.get(OutboxMessage, row_id)
    assert row is not None  # outbox rows are never deleted while claimed
    return row


def _wait_for_budget(gate: RateGate, rate_key: str) -> float:
    """Sleep through short waits; return the remaining wait when it is too long to hold the row."""
    wait = gate.try_acquire(rate_key)
    while 0 < wait <= MAX_INLINE_WAIT:
        time.sleep(wait)
        wait = gate.try_acquire(rate_key)
    return wait


def _send(channels: Mapping[str, Channel], name: str, recipient: str, payload: dict[str, Any]) -> str:
    channel = channels.get(name)
    if channel is None:
        raise DeliveryError(f"no channel named {name}", transient=False)
    fallback = payload.pop("fallback", None)
    try:
        return channel.send(recipient, payload).msgid
    except DeliveryError as exc:
        # Outside the 48 h customer-service window only a template message may start a conversation.
        if exc.window_closed and fallback:
            return _send(channels, fallback["channel"], recipient, dict(fallback["payload"]))
        raise
