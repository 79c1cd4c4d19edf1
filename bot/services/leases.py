"""Named leases in the database: the one scheduler holds "scheduler" while it lives."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import Lease, utcnow


def try_acquire(db: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease if it is free, expired, or already ours. Caller commits."""
    now = now or utcnow()
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(Lease)
        .values(name=name, holder=holder, expires_at=now + ttl, acquired_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    query = select(Lease).where(Lease.name == name)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    lease = db.scalar(query)
    assert lease is not None
    if lease.holder != holder and lease.expires_at > now:
        return False
    if lease.holder != holder:
        lease.acquired_at = now
    lease.holder, lease.expires_at = holder, now + ttl
    return True


def release(db: Session, name: str, holder: str) -> None:
    lease = db.get(Lease, name)
    if lease is not None and lease.holder == holder:
        lease.expires_at = utcnow() - timedelta(seconds=1)


def holder_of(db: Session, name: str, now: datetime | None = None) -> str | None:
    lease = db.get(Lease, name)
    if lease is None or lease.expires_at <= (now or utcnow()):
        return None
    return lease.holder
