"""Deliver one claimed outbox row: rate gate, channel send, window fallback, result recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

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
# A claim younger than this part of the sending lease is still this worker's: no renewal needed.
RENEW_AFTER = 0.25


def deliver(
    rt: Runtime, claimed: outbox.Claimed, channels: Mapping[str, Channel], gate: RateGate
) -> OutboxStatus | None:
    """Send a row this worker claimed and record what happened; None if its claim was lost meanwhile.

    A row that waited in this worker's batch for a large part of the sending lease is renewed first,
    and not sent if another worker reclaimed it meanwhile: a row is never sent by two holders.
    """
    # No transaction is open while waiting for a rate budget or for WeChat: no lock is held meanwhile.
    wait = _wait_for_budget(gate, claimed.rate_key)
    if wait:
        with rt.session() as db:
            begin_immediate(db)
            postponed = outbox.postpone(db, claimed, utcnow() + timedelta(seconds=wait))
        return OutboxStatus.QUEUED if postponed else None
    if not _still_held(rt, claimed):
        return None  # reclaimed: its new holder sends it
    try:
        result_msgid = _send(channels, claimed.channel, claimed.recipient, dict(claimed.payload))
        error: DeliveryError | None = None
    except DeliveryError as exc:
        result_msgid, error = "", exc
    except Exception as exc:  # a bug or an unexpected library error: keep the row, retry later
        log.exception("outbox row %s: unexpected error from channel %s", claimed.id, claimed.channel)
        result_msgid, error = "", DeliveryError(type(exc).__name__, transient=True)
    DELIVERIES.labels(claimed.channel, "sent" if error is None else "error").inc()
    with rt.session() as db:
        begin_immediate(db)
        if error is None:
            outbox.record_sent(db, claimed.id, result_msgid)
            return OutboxStatus.SENT
        row = db.get(OutboxMessage, claimed.id)
        assert row is not None  # outbox rows are never deleted while claimed
        outbox.record_failure(
            db, row, errcode=error.errcode, error=error.explanation_zh, transient=error.transient
        )
        log.info("outbox row %s (%s) failed: %s", claimed.id, claimed.channel, error.explanation_zh)
        return row.status


def _still_held(rt: Runtime, claimed: outbox.Claimed) -> bool:
    """Whether this worker may send the row now. Rows are reclaimed only once their claim is older than
    the lease; a claim younger than ``RENEW_AFTER`` of it leaves the rest of the lease (minus any clock
    difference between workers) for the send, so only older claims are checked and renewed."""
    lease = timedelta(seconds=rt.settings.delivery.sending_lease_seconds)
    if utcnow() - claimed.claimed_at < lease * RENEW_AFTER:
        return True
    with rt.session() as db:
        begin_immediate(db)  # SQLite: write under the lock taken now, not from a stale read snapshot
        return outbox.renew_claim(db, claimed.id, claimed.worker)


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
