"""The county's notion of "today" (Asia/Shanghai by default), in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(tz).date()


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock moment of ``day`` as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
