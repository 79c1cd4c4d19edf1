"""Daily check-ins: one row per resident per day, answered once, whatever arrives twice.

A check-in is answered through the chat (the daily_checkin flow), the mobile page (/h5/checkin)
or a staff call; all three end in ``complete``, which stores the answers, counts a visit and
escalates (``bot.services.escalation``). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from bot import bulk
from bot.config import Settings
from bot.models import (
    Checkin,
    CheckinStatus,
    ContactMethod,
    Lead,
    Resident,
    ResidentStatus,
    Visit,
    utcnow,
)
from bot.services import escalation, visits
from bot.services.checkin_answers import Answers

# Not yet answered, and nobody has been asked to call: the resident may still answer by chat.
OPEN = (CheckinStatus.PENDING, CheckinStatus.PROMPTED, CheckinStatus.IN_PROGRESS)
DONE = (CheckinStatus.ANSWERED, CheckinStatus.REACHED_BY_PHONE)
# Residents who check in every day: away from the county, or back and under observation.
CHECKING_IN = (ResidentStatus.AWAY, ResidentStatus.MONITORING)
PHONE_REASONS = ("silent", "unclear", "unbound")


@dataclass(frozen=True)
class Completion:
    checkin: Checkin
    already: bool = False  # it was answered before: nothing changed
    visit: Visit | None = None
    leads: tuple[Lead, ...] = field(default=())


_TABLE = cast(Table, Checkin.__table__)  # Core inserts: the ORM's bulk path costs twice as much


def _new_row(
    resident_id: int, station_id: int, day: date, now: datetime, status: CheckinStatus = CheckinStatus.PENDING
) -> dict[str, Any]:
    phone_listed = status == CheckinStatus.PHONE_LIST
    return {
        "resident_id": resident_id,
        "station_id": station_id,
        "day": day,
        "status": status,
        "abnormal": False,
        "unclear_replies": 0,
        "whereabouts_city": "",
        "return_plan": "",
        "phone_list_reason": "unbound" if phone_listed else "",
        "prompted_at": now if status == CheckinStatus.PROMPTED else None,
        "phone_listed_at": now if phone_listed else None,
        "created_at": now,
        "updated_at": now,
    }


def ensure_rows(db: Session, residents: Iterable[tuple[int, int]], day: date) -> None:
    """The day's check-in row for each (resident id, station id), created once (concurrency-safe)."""
    now = utcnow()
    rows = [_new_row(resident_id, station_id, day, now) for resident_id, station_id in residents]
    bulk.insert_many(db, _TABLE, rows, key=["resident_id", "day"])


def open_many(
    db: Session,
    day: date,
    now: datetime,
    *,
    to_prompt: Sequence[tuple[int, int]],
    unbound: Sequence[tuple[int, int]],
) -> set[int]:
    """Open the day's check-in of each (resident id, station id): prompted, or on the phone list for
    want of a usable WeChat. Created in that state, or moved there from pending; a check-in already
    past pending is left alone. The residents whose check-in was opened now.

    Set-based, for a chunk of residents in id order: one range read, one bulk insert, rarely an
    update. A row a resident creates between the read and the insert (opening the mobile page at
    09:00) is kept and still counted as opened here."""
    everyone = [*to_prompt, *unbound]
    if not everyone:
        return set()
    ids = [resident_id for resident_id, _ in everyone]
    existing: dict[int, CheckinStatus] = {
        resident_id: status
        for resident_id, status in db.execute(
            select(Checkin.resident_id, Checkin.status).where(
                Checkin.day == day, Checkin.resident_id.between(min(ids), max(ids))
            )
        )
    }
    rows = [_new_row(r, s, day, now, CheckinStatus.PROMPTED) for r, s in to_prompt if r not in existing]
    rows += [_new_row(r, s, day, now, CheckinStatus.PHONE_LIST) for r, s in unbound if r not in existing]
    bulk.insert_many(db, _TABLE, rows, key=["resident_id", "day"])
    pending = {r for r in ids if existing.get(r) == CheckinStatus.PENDING}
    if pending:
        _move(
            db, day, [r for r, _ in to_prompt if r in pending], status=CheckinStatus.PROMPTED, prompted_at=now
        )
        _move(db, day, [r for r, _ in unbound if r in pending], **_phone_list_values("unbound", now))
    return {row["resident_id"] for row in rows} | pending


def _phone_list_values(reason: str, now: datetime) -> dict[str, Any]:
    if reason not in PHONE_REASONS:
        raise ValueError(f"unknown phone-list reason {reason!r}")
    unclear = 1 if reason == "unclear" else 0
    return {
        "status": CheckinStatus.PHONE_LIST,
        "phone_list_reason": reason,
        "phone_listed_at": now,
        "unclear_replies": Checkin.unclear_replies + unclear,
    }


def _move(db: Session, day: date, resident_ids: Sequence[int], **values: Any) -> None:
    """Set ``values`` on these residents' open check-ins of the day."""
    if resident_ids:
        db.execute(
            update(Checkin)
            .where(Checkin.day == day, Checkin.resident_id.in_(resident_ids), Checkin.status.in_(OPEN))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )


def awaiting_reminder(db: Session, resident_ids: Sequence[int], day: date) -> set[int]:
    """Of these residents, those prompted today who have not answered nor been reminded."""
    if not resident_ids:
        return set()
    return set(
        db.scalars(
            select(Checkin.resident_id).where(
                Checkin.day == day,
                Checkin.resident_id.in_(resident_ids),
                Checkin.status.in_((CheckinStatus.PROMPTED, CheckinStatus.IN_PROGRESS)),
                Checkin.reminded_at.is_(None),
            )
        )
    )


def mark_reminded(db: Session, resident_ids: Sequence[int], day: date, now: datetime) -> None:
    _move(db, day, resident_ids, reminded_at=now)


def for_day(db: Session, resident_ids: Sequence[int], day: date) -> dict[int, Checkin]:
    if not resident_ids:
        return {}
    found = db.scalars(select(Checkin).where(Checkin.day == day, Checkin.resident_id.in_(resident_ids)))
    return {c.resident_id: c for c in found}


def get_or_create(db: Session, resident: Resident, day: date) -> Checkin:
    ensure_rows(db, [(resident.id, resident.station_id)], day)
    checkin = db.scalar(select(Checkin).where(Checkin.resident_id == resident.id, Checkin.day == day))
    assert checkin is not None
    return checkin


def find(db: Session, resident_id: int, day: date) -> Checkin | None:
    return db.scalar(select(Checkin).where(Checkin.resident_id == resident_id, Checkin.day == day))


def answerable(checkin: Checkin | None) -> bool:
    """Whether a chat reply should be taken as today's check-in: not answered, not left to a call
    because the replies were unclear (the resident was told an officer will ring)."""
    if checkin is None:
        return False
    if checkin.status in OPEN:
        return True
    # A late reply after the day closed still counts: better than a call.
    return checkin.status in (CheckinStatus.PHONE_LIST, CheckinStatus.NOT_REACHED) and (
        checkin.phone_list_reason != "unclear"
    )


def mark_prompted(checkin: Checkin, now: datetime) -> None:
    if checkin.status == CheckinStatus.PENDING:
        checkin.status = CheckinStatus.PROMPTED
    checkin.prompted_at = checkin.prompted_at or now


def mark_in_progress(checkin: Checkin) -> None:
    if checkin.status in (CheckinStatus.PENDING, CheckinStatus.PROMPTED):
        checkin.status = CheckinStatus.IN_PROGRESS


def to_phone_list(checkin: Checkin, reason: str, now: datetime) -> bool:
    """Put an unanswered check-in on the station's phone list; False when it needs no call."""
    if reason not in PHONE_REASONS:
        raise ValueError(f"unknown phone-list reason {reason!r}")
    if checkin.status not in OPEN:
        return False
    checkin.status = CheckinStatus.PHONE_LIST
    checkin.phone_list_reason = reason
    checkin.phone_listed_at = now
    if reason == "unclear":
        checkin.unclear_replies += 1
    return True


def _store(checkin: Checkin, answers: Answers) -> None:
    checkin.health = answers.effective_health
    checkin.temperature = answers.temperature
    checkin.whereabouts_unchanged = answers.whereabouts_unchanged
    checkin.whereabouts_city = answers.city
    checkin.return_plan = answers.return_plan
    checkin.return_date = answers.return_date
    checkin.abnormal = answers.abnormal


def _whereabouts(answers: Answers) -> str:
    if answers.returned:
        return "已返回"
    if answers.whereabouts_unchanged:
        return "未变"
    return answers.city


def complete(
    db: Session,
    settings: Settings,
    resident: Resident,
    checkin: Checkin,
    answers: Answers,
    *,
    method: ContactMethod,
    now: datetime,
    staff_id: int | None = None,
    note: str = "",
) -> Completion:
    """Record the day's answers once: a visit is counted and anything abnormal escalated."""
    if checkin.status in DONE:
        return Completion(checkin, already=True)
    _store(checkin, answers)
    checkin.status = (
        CheckinStatus.REACHED_BY_PHONE if method == ContactMethod.PHONE else CheckinStatus.ANSWERED
    )
    checkin.channel = method
    checkin.answered_at = now
    if answers.city and answers.whereabouts_unchanged is False:
        resident.current_city = answers.city
    visit = visits.record(
        db,
        resident,
        checkin.day,
        method,
        checkin_id=checkin.id,
        staff_id=staff_id,
        health=checkin.health,
        whereabouts=_whereabouts(answers),
        note=note,
        at=now,
    )
    leads = escalation.after_checkin(db, settings, resident, checkin, answers, now)
    return Completion(checkin, visit=visit, leads=tuple(leads))


def unclear(
    db: Session, settings: Settings, resident: Resident, checkin: Checkin, answers: Answers, now: datetime
) -> tuple[Lead, ...]:
    """Replies unclear twice: a call is due; what was understood is kept (a fever still escalates)."""
    if checkin.status in DONE:
        return ()
    _store(checkin, answers)
    to_phone_list(checkin, "unclear", now)
    return tuple(escalation.after_checkin(db, settings, resident, checkin, answers, now))
