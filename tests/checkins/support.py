"""Helpers for the check-in tests: a frozen county clock, bound residents, the jobs, the chat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.jobs import run_job
from bot.models import (
    Checkin,
    Jurisdiction,
    Lead,
    OutboxMessage,
    Resident,
    Role,
    StaffUser,
    Visit,
    WeChatIdentity,
)
from bot.runtime import Runtime
from tests.factories import make_identity, make_resident, make_station, make_user
from tests.tips.support import Chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 2, 15)


def at(hhmm: str, day: date = DAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=SHANGHAI)


@contextmanager
def clock(hhmm: str, day: date = DAY) -> Iterator[time_machine.Traveller]:
    """The wall clock (datetime, time.time) at this local moment, standing still."""
    with time_machine.travel(at(hhmm, day), tick=False) as traveller:
        yield traveller


def bound_resident(db: Session, *, window_open: bool = True, **kw: object) -> tuple[Resident, WeChatIdentity]:
    station = kw.pop("station", None) or make_station(db)
    resident = make_resident(db, station, **kw)  # type: ignore[arg-type]
    identity = make_identity(db, resident, window_open=window_open)
    db.commit()
    return resident, identity


def job(rt: Runtime, job_id: str, hhmm: str, day: date = DAY) -> dict[str, object]:
    with clock(hhmm, day):
        return run_job(rt, job_id, at(hhmm, day))


def chat(rt: Runtime, identity: WeChatIdentity) -> Chat:
    return Chat(rt, identity.openid)


def checkin_of(db: Session, resident: Resident, day: date = DAY) -> Checkin:
    db.expire_all()
    found = db.scalar(select(Checkin).where(Checkin.resident_id == resident.id, Checkin.day == day))
    assert found is not None, "no check-in row"
    return found


def leads_of(db: Session, resident: Resident) -> list[Lead]:
    return list(db.scalars(select(Lead).where(Lead.resident_id == resident.id).order_by(Lead.id)))


def visits_of(db: Session, resident: Resident) -> list[Visit]:
    return list(db.scalars(select(Visit).where(Visit.resident_id == resident.id).order_by(Visit.id)))


def outbox_keys(db: Session, prefix: str = "") -> list[str]:
    keys = db.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id))
    return [k for k in keys if k.startswith(prefix)]


def outbox_row(db: Session, key: str) -> OutboxMessage:
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    assert row is not None, f"no outbox row {key}"
    return row


def officer(db: Session, station: Jurisdiction, wecom_userid: str | None = None, **kw: object) -> StaffUser:
    """A station officer of ``station`` (on WeCom as ``wecom_userid`` when given)."""
    user = make_user(db, Role.STATION_OFFICER, station, **kw)  # type: ignore[arg-type]
    user.wecom_userid = wecom_userid
    db.commit()
    return user


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has a CSRF token"
    return match.group(1)
