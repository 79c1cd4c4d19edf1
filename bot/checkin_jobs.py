"""The daily check-in jobs: daily_checkin, checkin_reminder, checkin_close_day.

Each walks its rows in chunks of consecutive ids (a fresh short transaction per chunk) rather than
one long-lived cursor: a million residents never hold a lock or a transaction open for the whole
run, a crash loses at most the chunks in flight, and a re-run resumes where the work is left
(every step is idempotent for the day).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot import conversations
from bot.clock import local_today
from bot.models import Checkin, Resident, WeChatIdentity
from bot.runtime import Runtime
from bot.services import checkin_dispatch, checkins, escalation
from bot.services.checkin_dispatch import Prompter, Target, Wording

Row = TypeVarTuple("Row")
CHUNK = 2000  # residents a transaction: a few statements each, whatever the size
CONNECTIONS = 2  # chunks in flight at once (PostgreSQL)
H5_PATH = "/h5/checkin"


def h5_url(rt: Runtime) -> str:
    """The mobile check-in page. It sends the phone through WeChat's web authorization itself, with
    a state it keeps in the browser's session: a fixed state in the message would let anyone's
    authorization code be planted in someone else's browser."""
    return rt.settings.web.public_base_url.rstrip("/") + H5_PATH


def wording(rt: Runtime, now: datetime) -> Wording:
    """The day's prompt and reminder texts, for one run of a job."""
    flow = conversations.flows()[checkin_dispatch.FLOW]

    def context(name: str) -> dict[str, Any]:
        return conversations.resident_context(rt.settings, name, now)

    prompter = Prompter(rt.settings, flow, h5_url(rt), context)
    return Wording(prompter, local_today(rt.settings.tz, now), now)


def _checking_in(query: Select[*Row], after: int, upto: int | None) -> Select[*Row]:
    query = query.where(
        Resident.id > after, Resident.status.in_(checkins.CHECKING_IN), Resident.purged_at.is_(None)
    )
    return query if upto is None else query.where(Resident.id <= upto)


def _ranges(rt: Runtime) -> Iterator[tuple[int, int | None]]:
    """Consecutive id ranges of CHUNK residents checking in (the last one open-ended), read from the
    primary key index alone."""
    after = 0
    while True:
        with rt.session() as db:
            upto = db.scalar(
                _checking_in(select(Resident.id), after, None)
                .order_by(Resident.id)
                .offset(CHUNK - 1)
                .limit(1)
            )
        yield after, upto
        if upto is None:
            return
        after = upto


def _residents(rt: Runtime, after: int, upto: int | None) -> Select[*tuple[Any, ...]]:
    query = select(*checkin_dispatch.COLUMNS).outerjoin(
        WeChatIdentity,
        (WeChatIdentity.resident_id == Resident.id)
        & (WeChatIdentity.account == rt.settings.wechat.app_id)
        # Implied by the join, but it lets PostgreSQL's merge join start at this chunk instead of
        # scanning every identity before it (each chunk cost O(registry): 0.2 s a chunk at 1 M).
        & (WeChatIdentity.resident_id > after),
    )
    return _checking_in(query, after, upto).order_by(Resident.id)


def _each_chunk(rt: Runtime, work: Callable[[Session, Sequence[Target]], Counter[str]]) -> Counter[str]:
    """Run ``work`` on every chunk, each in its own transaction. On PostgreSQL two chunks are in
    flight at once, so one chunk's Python overlaps the other's statements (100,000 residents: 1.6×
    faster on 2 cores); SQLite has one writer, so one."""

    def one(id_range: tuple[int, int | None]) -> Counter[str]:
        with rt.writer() as db:  # SQLite: delivery threads commit meanwhile
            targets = [Target.from_row(row) for row in db.execute(_residents(rt, *id_range))]
            counts = work(db, targets) if targets else Counter()
            counts["residents"] += len(targets)
        rt.notify_outbox()  # after the commit: delivery may start on this chunk at once
        return counts

    with ThreadPoolExecutor(
        min(CONNECTIONS, rt.parallel_writers), thread_name_prefix="checkin-chunk"
    ) as pool:
        return sum(pool.map(one, _ranges(rt)), Counter())  # the ranges are all read first: ~1 ms each


def _summary(day: date, counts: Counter[str]) -> dict[str, Any]:
    return {"day": day.isoformat(), **dict(counts)}


def daily_checkin(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Create today's check-in for every resident checking in, and send each one's prompt."""
    w = wording(rt, now)
    counts = _each_chunk(rt, lambda db, targets: checkin_dispatch.open_day(db, w, targets))
    return _summary(w.day, counts)


def checkin_reminder(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Remind everyone prompted today who has not answered yet."""
    w = wording(rt, now)
    counts = _each_chunk(rt, lambda db, targets: checkin_dispatch.remind(db, w, targets))
    return _summary(w.day, counts)


def checkin_close_day(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Still silent → today's phone list; monitoring periods that ended → closed."""
    day = local_today(rt.settings.tz, now)
    listed, after = 0, 0
    while True:
        with rt.writer() as db:
            batch = list(
                db.scalars(
                    select(Checkin)
                    .where(Checkin.day == day, Checkin.status.in_(checkins.OPEN), Checkin.id > after)
                    .order_by(Checkin.id)
                    .limit(CHUNK)
                )
            )
            if not batch:
                break
            listed += checkin_dispatch.close(db, batch, now)
            after = batch[-1].id
    with rt.writer() as db:
        closed = escalation.close_ended_monitoring(db, day)
    return {"day": day.isoformat(), "phone_list": listed, "monitoring_closed": closed}
