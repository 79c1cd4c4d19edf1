"""Headline counts for the dashboard, always within the viewer's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Checkin, CheckinStatus, Resident, WeChatIdentity
from bot.services.scope import Scope

ANSWERED = (CheckinStatus.ANSWERED, CheckinStatus.REACHED_BY_PHONE)


@dataclass(frozen=True)
class Overview:
    residents: int
    bound: int
    checkins_today: int
    answered_today: int
    abnormal_today: int
    phone_list_today: int


def overview(db: Session, scope: Scope, day: date) -> Overview:
    residents = db.scalar(scope.filter(select(func.count(Resident.id)), Resident.station_id)) or 0
    bound = (
        db.scalar(
            scope.filter(
                select(func.count(WeChatIdentity.id)).join(
                    Resident, WeChatIdentity.resident_id == Resident.id
                ),
                Resident.station_id,
            )
        )
        or 0
    )
    rows = db.execute(
        scope.filter(
            select(Checkin.status, Checkin.abnormal, func.count()).where(Checkin.day == day),
            Checkin.station_id,
        ).group_by(Checkin.status, Checkin.abnormal)
    ).all()
    total = sum(n for _, _, n in rows)
    answered = sum(n for status, _, n in rows if status in ANSWERED)
    abnormal = sum(n for _, is_abnormal, n in rows if is_abnormal)
    phone = sum(n for status, _, n in rows if status == CheckinStatus.PHONE_LIST)
    return Overview(residents, bound, total, answered, abnormal, phone)
