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

from sqlalchemy import Table, bindparam, select, update
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


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending, with what its send needs: read by the claim, not again per row."""

    id: int
    worker: str  # the ``claimed_by`` it was claimed under
    claimed_at: datetime  # when its sending lease started (the claiming worker's clock)
    channel: str
    recipient: str
    payload: dict[str, Any]
    rate_key: str
    attempts: int  # attempts before this one


def claim(db: Session, worker: str, limit: int, *, now: datetime | None = None) -> list[Claimed]:
    """Mark up to ``limit`` due rows as sending for this worker and return them.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim without blocking each other.
    SQLite: the caller holds the write lock (``bot.db.begin_immediate``), so claims serialise.
    """
    now = now or utcnow()
    worker = worker[:64]
    due = (
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.recipient,
            OutboxMessage.payload,
            OutboxMessage.rate_key,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = db.execute(due).all()
    if rows:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=worker)
        )
    return [
        Claimed(r.id, worker, now, r.channel, r.recipient, dict(r.payload), r.rate_key, r.attempts)
        for r in rows
    ]


def renew_claim(db: Session, row_id: int, worker: str | None = None, *, now: datetime | None = None) -> bool:
    """Restart a claimed row's sending lease (a row that waited in its batch for a large part of it).
    False when the row is no longer claimed (by ``worker``, if given): it was reclaimed after the lease,
    and only its new holder may send it."""
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


def record_sent(db: Session, msgids: Mapping[int, str], *, now: datetime | None = None) -> None:
    """Rows sent, by id, with WeChat's msgid for each: one executemany, nothing read back."""
    if not msgids:
        return
    table = cast(Table, OutboxMessage.__table__)  # Core: the ORM's bulk-update path costs more per row
    db.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=OutboxStatus.SENT,
            sent_at=now or utcnow(),
            wechat_msgid=bindparam("msgid"),
            attempts=table.c.attempts + 1,
        ),
        [{"row_id": row_id, "msgid": msgid[:64]} for row_id, msgid in msgids.items()],
    )


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Capped exponential backoff with full jitter on the upper half."""
    ceiling: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * jitter


def status_after_failure(claimed: Claimed, *, transient: bool) -> OutboxStatus:
    """A transient failure re-queues until MAX_ATTEMPTS; a permanent one fails the row."""
    retry = transient and claimed.attempts + 1 < MAX_ATTEMPTS
    return OutboxStatus.QUEUED if retry else OutboxStatus.FAILED


def record_failure(
    db: Session,
    claimed: Claimed,
    *,
    errcode: int | None,
    error: str,
    transient: bool,
    now: datetime | None = None,
) -> OutboxStatus:
    """Count the attempt; re-queue with backoff or fail the row (``status_after_failure``)."""
    now = now or utcnow()
    status = status_after_failure(claimed, transient=transient)
    table = cast(Table, OutboxMessage.__table__)
    values: dict[str, Any] = {
        "status": status,
        "attempts": table.c.attempts + 1,  # counted in the database; the decision uses the claim's count
        "last_errcode": errcode,
        "last_error": error[:255],
        "claimed_by": "",
    }
    if status == OutboxStatus.QUEUED:
        values["next_attempt_at"] = now + backoff(claimed.attempts + 1)
    db.execute(update(table).where(table.c.id == claimed.id).values(**values))
    return status


def postpone(db: Session, claimed: Claimed, until: datetime) -> bool:
    """Back to the queue without counting an attempt (a rate limit said wait), if still so claimed."""
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claimed.id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == claimed.worker,
        )
        .values(status=OutboxStatus.QUEUED, next_attempt_at=until, claimed_by="")
    )
    return bool(getattr(result, "rowcount", 0))


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
