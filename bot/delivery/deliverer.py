"""Deliver one claimed outbox row: rate gate, channel send, window fallback, outcome recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.channels.base import Channel, DeliveryError
from bot.db import begin_immediate
from bot.delivery.rate import RateGate
from bot.metrics import DELIVERIES
from bot.models import OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox

log = logging.getLogger(__name__)
# Waiting this long for a rate budget is done in place; longer waits put the row back.
MAX_INLINE_WAIT = 2.0
# A claim younger than this part of the sending lease is still this worker's: no renewal needed.
RENEW_AFTER = 0.25


@dataclass(frozen=True)
class Outcome:
    """What one send of a claimed row came to: WeChat's msgid, or the error."""

    claimed: outbox.Claimed
    msgid: str = ""
    error: DeliveryError | None = None

    @property
    def status(self) -> OutboxStatus:
        if self.error is None:
            return OutboxStatus.SENT
        return outbox.status_after_failure(self.claimed, transient=self.error.transient)


# Where outcomes go: ``None`` records each in a transaction of its own before ``deliver`` returns.
Recorder = Callable[[Outcome], None]


def deliver(
    rt: Runtime,
    claimed: outbox.Claimed,
    channels: Mapping[str, Channel],
    gate: RateGate,
    record: Recorder | None = None,
) -> OutboxStatus | None:
    """Send a row this worker claimed and have its outcome recorded; None if its claim was lost.

    A row that waited in this worker's batch for a large part of the sending lease is renewed first,
    and not sent if another worker reclaimed it meanwhile: a row is never sent by two holders. The
    row stays ``sending`` until its outcome is recorded (``record``, e.g. an ``OutcomeRecorder``).
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
    outcome = _send_claimed(channels, claimed)
    if record is None:
        record_outcomes(rt, [outcome])
    else:
        record(outcome)
    return outcome.status


def record_outcomes(rt: Runtime, outcomes: Sequence[Outcome]) -> None:
    """Write outcomes in one transaction: the sent rows in one statement, each failure in its own."""
    with rt.session() as db:
        begin_immediate(db)
        outbox.record_sent(db, {o.claimed.id: o.msgid for o in outcomes if o.error is None})
        for o in outcomes:
            if o.error is not None:
                error = o.error
                outbox.record_failure(
                    db,
                    o.claimed,
                    errcode=error.errcode,
                    error=error.explanation_zh,
                    transient=error.transient,
                )


def _send_claimed(channels: Mapping[str, Channel], claimed: outbox.Claimed) -> Outcome:
    try:
        outcome = Outcome(claimed, _send(channels, claimed.channel, claimed.recipient, dict(claimed.payload)))
    except DeliveryError as exc:
        outcome = Outcome(claimed, error=exc)
    except Exception as exc:  # a bug or an unexpected library error: keep the row, retry later
        log.exception("outbox row %s: unexpected error from channel %s", claimed.id, claimed.channel)
        outcome = Outcome(claimed, error=DeliveryError(type(exc).__name__, transient=True))
    DELIVERIES.labels(claimed.channel, "sent" if outcome.error is None else "error").inc()
    if outcome.error is not None:
        log.info("outbox row %s (%s) failed: %s", claimed.id, claimed.channel, outcome.error.explanation_zh)
    return outcome


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
