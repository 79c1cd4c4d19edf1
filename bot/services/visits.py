"""Visits: every contact with a resident (a check-in answered in WeChat or on the page, a call,
an in-person visit), the figure the bureau reports against the registry's size."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.models import ContactMethod, Health, Resident, Visit, VisitOutcome

WHEREABOUTS_MAX = 128
NOTE_MAX = 2000


def record(
    db: Session,
    resident: Resident,
    day: date,
    method: ContactMethod,
    outcome: VisitOutcome = VisitOutcome.REACHED,
    *,
    at: datetime,
    checkin_id: int | None = None,
    staff_id: int | None = None,
    health: Health | None = None,
    whereabouts: str = "",
    note: str = "",
) -> Visit:
    visit = Visit(
        resident_id=resident.id,
        station_id=resident.station_id,
        checkin_id=checkin_id,
        day=day,
        at=at,
        method=method,
        outcome=outcome,
        staff_id=staff_id,
        health=health,
        whereabouts=whereabouts.strip()[:WHEREABOUTS_MAX],
        note=note.strip()[:NOTE_MAX],
    )
    db.add(visit)
    db.flush()
    return visit
