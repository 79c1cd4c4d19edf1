"""The outbox: every outbound message is a row, written in the caller's transaction.

``enqueue`` is called by services in the same transaction as the decision to send, with an
idempotency key naming that decision (``checkin:<resident>:<date>:prompt``), so a decision
taken twice sends once. Workers ``claim`` due rows, deliver them, and ``record_*`` the result.
A row left in ``sending`` by a worker that died is reclaimed after ``SENDING_LEASE``: only
rows in flight at a crash can ever be sent twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import bulk
from bot.models import OutboxMessage, OutboxStatus, utcnow

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
SENDING_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Enqueued:
    id: int
    created: bool  # False when the idempotency key existed: nothing new will be sent


@dataclass(frozen=True)
class Message:
    """One message to add, for ``enqueue_many``."""

    key: str
    channel: str
    recipient: str
    payload: Mapping[str, Any]
    rate_key: str | None = None
    not_before: datetime | None = None


def _values(message: Message, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "channel": message.channel,
        "rate_key": message.rate_key or message.channel,
        "recipient": message.recipient,
        "payload": message.payload,  # not copied: a payload shared by many rows is encoded once (bot.bulk)
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": message.not_before or now,
        "created_at": now,
        "claimed_by": "",
        "wechat_msgid": "",
        "last_error": "",
    }


_TABLE = cast(Table, OutboxMessage.__table__)  # Core inserts: the ORM's bulk path costs twice as much


def _insert_new(db: Session) -> Any:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"])


def enqueue(
    db: Session,
    *,
    key: str,
    channel: str,
    recipient: str,
    payload: Mapping[str, Any],
    rate_key: str | None = None,
    not_before: datetime | None = None,
) -> Enqueued:
    """Add a message to the outbox unless a message with this key exists."""
    values = _values(Message(key, channel, recipient, dict(payload), rate_key, not_before), utcnow())
    new_id = db.execute(_insert_new(db).values(**values).returning(_TABLE.c.id)).scalar()
    if new_id is not None:
        return Enqueued(new_id, True)
    existing = db.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    assert existing is not None
    return Enqueued(existing, False)


def enqueue_many(db: Session, messages: Sequence[Message]) -> None:
    """Add many messages at once (``bot.bulk``), skipping those whose key exists."""
    now = utcnow()
    bulk.insert_many(db, _TABLE, [_values(message, now) for message in messages], key=["idempotency_key"])


def claim(db: Session, worker: str, limit: int, *, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due rows as sending for this worker and return their ids.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim without blocking each other.
    SQLite: the caller holds the write lock (``bot.db.begin_immediate``), so claims serialise.
    """
    now = now or utcnow()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.scalars(due))
    if ids:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=worker[:64])
        )
    return ids


def claim_one(db: Session, row_id: int, worker: str, *, now: datetime | None = None) -> bool:
    """Claim a specific row (the Celery path: the task names the row). False if not deliverable now."""
    now = now or utcnow()
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=worker[:64])
    )
    return bool(getattr(result, "rowcount", 0))


def renew_claim(db: Session, row_id: int, worker: str | None = None, *, now: datetime | None = None) -> bool:
    """Restart a claimed row's sending lease just before it is sent, so the lease counts from the send,
    not from the claim of its whole batch. False when the row is no longer claimed (by ``worker``, if
    given): it was reclaimed after the lease, and only its new holder may send it."""
    stmt = update(OutboxMessage).where(
        OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.SENDING
    )
    if worker is not None:
        stmt = stmt.where(OutboxMessage.claimed_by == worker[:64])
    result = db.execute(stmt.values(claimed_at=now or utcnow()))
    return bool(getattr(result, "rowcount", 0))


def reclaim_stale(db: Session, *, lease: timedelta = SENDING_LEASE, now: datetime | None = None) -> int:
    """Rows a dead worker left in ``sending`` go back to the queue (they may be sent twice)."""
    now = now or utcnow()
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - lease)
        .values(status=OutboxStatus.QUEUED, next_attempt_at=now, claimed_by="")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_sent(db: Session, row: OutboxMessage, msgid: str = "", *, now: datetime | None = None) -> None:
    row.status = OutboxStatus.SENT
    row.sent_at = now or utcnow()
    row.wechat_msgid = msgid[:64]
    row.attempts += 1


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Capped exponential backoff with full jitter on the upper half."""
    ceiling: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * jitter


def record_failure(
    db: Session,
    row: OutboxMessage,
    *,
    errcode: int | None,
    error: str,
    transient: bool,
    now: datetime | None = None,
) -> None:
    """A transient failure re-queues with backoff until MAX_ATTEMPTS; a permanent one fails the row."""
    now = now or utcnow()
    row.attempts += 1
    row.last_errcode = errcode
    row.last_error = error[:255]
    if transient and row.attempts < MAX_ATTEMPTS:
        row.status = OutboxStatus.QUEUED
        row.next_attempt_at = now + backoff(row.attempts)
    else:
        row.status = OutboxStatus.FAILED
    row.claimed_by = ""


def postpone(db: Session, row: OutboxMessage, until: datetime) -> None:
    """Back to the queue without counting an attempt (a rate limit said wait)."""
    row.status = OutboxStatus.QUEUED
    row.next_attempt_at = until
    row.claimed_by = ""


def cancel(db: Session, keys_prefix: str) -> int:
    """Cancel every not-yet-sent row whose key starts with the prefix (e.g. an advisory's)."""
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.startswith(keys_prefix, autoescape=True),
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.CANCELLED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def requeue_failed(db: Session, ids: Sequence[int]) -> int:
    """Failed rows go back to the queue for another round of attempts (resend to failed targets)."""
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=utcnow(), last_error="")
    )
    return int(getattr(result, "rowcount", 0) or 0)
