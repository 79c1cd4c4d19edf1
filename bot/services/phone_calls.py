"""Recording a station officer's call from the phone list: every call is a visit; a reached call
is the day's check-in (REACHED_BY_PHONE) and escalates exactly as a chat answer would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import Checkin, CheckinStatus, ContactMethod, Health, Resident, Visit, VisitOutcome
from bot.services import audit, checkins, visits
from bot.services.audit import Actor
from bot.services.checkin_answers import Answers

Whereabouts = Literal["unchanged", "moved", "returned"]


class CallError(Exception):
    """A call that cannot be recorded as given; the message is shown to staff."""


@dataclass(frozen=True)
class Call:
    outcome: VisitOutcome
    health: Health | None = None
    whereabouts: Whereabouts = "unchanged"
    city: str = ""
    note: str = ""

    def answers(self) -> Answers:
        return Answers(
            health=self.health,
            whereabouts_unchanged=self.whereabouts == "unchanged",
            city=self.city.strip() if self.whereabouts == "moved" else "",
            return_plan="returned" if self.whereabouts == "returned" else "",
        )


@dataclass(frozen=True)
class CallRecorded:
    visit: Visit
    checkin: Checkin
    counted: bool  # the call answered the day's check-in
    leads: int


def record(
    db: Session,
    settings: Settings,
    actor: Actor,
    resident: Resident,
    checkin: Checkin,
    call: Call,
    now: datetime,
) -> CallRecorded:
    """Record the call (audited). Reached needs the health answer; moved needs the city."""
    if call.outcome == VisitOutcome.REACHED and call.health is None:
        raise CallError("接通了请选择健康状况")
    if call.outcome == VisitOutcome.REACHED and call.whereabouts == "moved" and not call.city.strip():
        raise CallError("换了地方请填写现在所在的城市")
    reached = call.outcome == VisitOutcome.REACHED
    if reached and checkin.status not in checkins.DONE:
        done = checkins.complete(
            db,
            settings,
            resident,
            checkin,
            call.answers(),
            method=ContactMethod.PHONE,
            now=now,
            staff_id=actor.user_id,
            note=call.note,
        )
        assert done.visit is not None
        visit, counted, leads = done.visit, True, len(done.leads)
    else:
        visit = visits.record(
            db,
            resident,
            checkin.day,
            ContactMethod.PHONE,
            call.outcome,
            at=now,
            checkin_id=checkin.id,
            staff_id=actor.user_id,
            health=call.health if reached else None,
            note=call.note,
        )
        counted, leads = False, 0
        if not reached and checkin.status not in checkins.DONE:
            checkin.status = CheckinStatus.NOT_REACHED
    audit.record(
        db,
        actor,
        "checkin.call",
        record_type="resident",
        record_id=resident.id,
        outcome=call.outcome.value,
        day=checkin.day.isoformat(),
    )
    return CallRecorded(visit, checkin, counted, leads)
