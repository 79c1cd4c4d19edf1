"""Bulk synthetic data for the benchmarks: Core executemany in chunks, streamed, never all in memory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, case, cast, insert, literal, select
from sqlalchemy.orm import Session

from bot.models import (
    Jurisdiction,
    JurisdictionKind,
    OutboxStatus,
    Resident,
    ResidentStatus,
    WeChatIdentity,
    utcnow,
)
from bot.services import jurisdictions

CHUNK = 5_000
TOWNSHIPS = 8
STATIONS_PER_TOWNSHIP = 2


def insert_chunks(engine: Engine, table: Any, rows: Iterable[dict[str, Any]], size: int = CHUNK) -> int:
    """Insert rows with executemany, ``size`` per transaction; returns how many."""
    total = 0
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
        total += len(batch)
    return total


def stations(engine: Engine) -> list[tuple[int, int]]:
    """(township id, station id) pairs of a small county tree, created through the service."""
    with Session(engine) as db, db.begin():
        county = jurisdictions.county(db)
        pairs = []
        for t in range(1, TOWNSHIPS + 1):
            town, _ = jurisdictions.upsert_child(db, county, JurisdictionKind.TOWNSHIP, f"基准镇{t}")
            for s in range(1, STATIONS_PER_TOWNSHIP + 1):
                station, _ = jurisdictions.upsert_child(
                    db, town, JurisdictionKind.STATION, f"基准镇{t}派出所{s}"
                )
                pairs.append((town.id, station.id))
        return pairs


def all_stations(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.scalars(select(Jurisdiction.id).where(Jurisdiction.kind == JurisdictionKind.STATION))
        )


def resident_rows(
    count: int, pairs: list[tuple[int, int]], extra: Callable[[int], dict[str, Any]] | None = None
) -> Iterator[dict[str, Any]]:
    """Minimal residents away from home, spread over the stations (``extra(n)`` adds fields)."""
    now = utcnow()
    for n in range(count):
        township_id, station_id = pairs[n % len(pairs)]
        row = {
            "name": f"居民{n:07d}",
            "station_id": station_id,
            "township_id": township_id,
            "status": ResidentStatus.AWAY,
            "gender": "",
            "household_address": "",
            "current_city": "",
            "current_address": "",
            "away_reason": "",
            "closed_reason": "",
            "note": "",
            "created_at": now,
            "updated_at": now,
        }
        yield (row | extra(n)) if extra else row


def bind_everyone(engine: Engine, account: str, window_percent: int, now: datetime | None = None) -> int:
    """A subscribed WeChat identity for every resident, in one INSERT … SELECT on the server.

    ``window_percent`` of them wrote an hour ago (their 48 h customer-service window is open)."""
    now = now or utcnow()
    spoke = now - timedelta(hours=1)
    openid = literal("oBench") + cast(Resident.id, String)
    columns = {
        "account": literal(account),
        "openid": openid,
        "resident_id": Resident.id,
        "bound_at": literal(now, WeChatIdentity.bound_at.type),
        "subscribed": literal(True),
        "subscribed_at": literal(now, WeChatIdentity.subscribed_at.type),
        "last_user_message_at": case(
            (Resident.id % 100 < window_percent, literal(spoke, WeChatIdentity.last_user_message_at.type)),
            else_=None,
        ),
        "window_sends": literal(0),
        "bind_failures": literal(0),
        "tips_blocked": literal(False),
        "nickname": literal(""),
        "created_at": literal(now, WeChatIdentity.created_at.type),
        "updated_at": literal(now, WeChatIdentity.updated_at.type),
    }
    stmt = insert(WeChatIdentity).from_select(list(columns), select(*columns.values()))
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount or 0)


def openids(engine: Engine, account: str) -> Iterator[tuple[str, bool]]:
    """Every identity's (openid, window open) for registering followers with the fake, streamed."""
    query = select(WeChatIdentity.openid, WeChatIdentity.last_user_message_at.is_not(None)).where(
        WeChatIdentity.account == account
    )
    with engine.connect() as conn:
        for openid, window in conn.execution_options(yield_per=10_000).execute(query):
            yield openid, bool(window)


def outbox_row(
    key: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    status: OutboxStatus = OutboxStatus.QUEUED,
) -> dict[str, Any]:
    """An outbox row as a bulk insert takes it (the benchmarks' queued prompts and references)."""
    return {
        "idempotency_key": key,
        "channel": "oa_template",
        "rate_key": "oa_template",
        "recipient": recipient,
        "payload": payload,
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "claimed_by": "",
        "wechat_msgid": "",
        "last_error": "",
    }
