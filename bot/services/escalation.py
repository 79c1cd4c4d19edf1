"""What an answered check-in sets off: leads for the station, and the monitoring period.

- fever, other symptoms, or already at a doctor → a high-priority lead for the resident's station
  (cause ``checkin:<id>:health``), pushed at once to the station's officers on WeCom;
- back in the county → a lead for the home station (cause ``resident:<id>:returned:<date>``) and
  the resident is monitored for ``[checkin] monitoring_days``; ``close_ended_monitoring`` ends it.
Leads are created once per cause, so a check-in escalated twice makes one lead and one alert.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy
from bot.config import Settings
from bot.flows import messages
from bot.flows.model import Reply
from bot.models import (
    Checkin,
    Lead,
    LeadPriority,
    LeadSource,
    Resident,
    ResidentStatus,
    StaffUser,
)
from bot.services import audit, leads, outbox
from bot.services.audit import SYSTEM
from bot.services.checkin_answers import Answers
from bot.services.labels import label

ALERT_TEMPLATE = "checkins/lead_alert"


def _health_summary(answers: Answers) -> str:
    text = f"今日报平安：{label('health', answers.effective_health)}"
    if answers.temperature is not None:
        text += f"，体温 {answers.temperature}℃"
    return text


def _where(resident: Resident, answers: Answers) -> str:
    city = answers.city if answers.whereabouts_unchanged is False else resident.current_city
    return f"现在{city}" if city else ""


def health_lead(
    db: Session, settings: Settings, resident: Resident, checkin: Checkin, answers: Answers, now: datetime
) -> Lead | None:
    if not answers.abnormal:
        return None
    summary = _health_summary(answers)
    where = _where(resident, answers)
    lead, created = leads.create(
        db,
        leads.NewLead(
            source=LeadSource.CHECKIN,
            cause_key=f"checkin:{checkin.id}:health",
            station_id=resident.station_id,
            title=f"{resident.name} {label('health', answers.effective_health)}",
            detail="；".join(
                part for part in (summary, where, f"电话 {privacy.mask_phone(resident.phone)}") if part
            ),
            priority=LeadPriority.HIGH,
            resident_id=resident.id,
            checkin_id=checkin.id,
            due_date=checkin.day,
        ),
    )
    if created:
        notify_station(db, settings, lead, resident, summary, now)
    return lead


def station_officers(db: Session, station_id: int) -> list[str]:
    """WeCom user ids of the station's active staff that have one, for alerts."""
    found = db.scalars(
        select(StaffUser.wecom_userid).where(
            StaffUser.jurisdiction_id == station_id,
            StaffUser.active.is_(True),
            StaffUser.wecom_userid.is_not(None),
            StaffUser.wecom_userid != "",
        )
    )
    return sorted({userid for userid in found if userid})


def notify_station(
    db: Session, settings: Settings, lead: Lead, resident: Resident, summary: str, now: datetime
) -> bool:
    """A WeCom app message to the station's officers (through the outbox); False when nobody has WeCom."""
    userids = station_officers(db, lead.station_id)
    if not userids:
        return False
    context = {
        "priority": label("lead_priority", lead.priority),
        "station": lead.station.name,
        "resident_name": privacy.mask_name(resident.name),  # WeCom is another company's server
        "summary": summary,
        "url": f"{settings.web.public_base_url.rstrip('/')}/leads/{lead.id}",
    }
    text = messages.render(Reply(ALERT_TEMPLATE), context)
    outbox.enqueue(
        db,
        key=f"lead:{lead.id}:notify",
        channel="wecom_app",
        recipient="|".join(userids),
        payload={"msgtype": "text", "text": {"content": text}},
    )
    lead.notified_at = now
    return True


def start_monitoring(
    db: Session, settings: Settings, resident: Resident, returned_on: date, *, actor: audit.Actor = SYSTEM
) -> bool:
    """A resident back in the county is observed for monitoring_days; False if already observed or closed."""
    if resident.status != ResidentStatus.AWAY:
        return False
    resident.status = ResidentStatus.MONITORING
    resident.returned_on = returned_on
    resident.monitoring_start = returned_on
    resident.monitoring_end = returned_on + timedelta(days=settings.checkin.monitoring_days)
    audit.record(
        db,
        actor,
        "resident.monitoring_start",
        record_type="resident",
        record_id=resident.id,
        start=returned_on.isoformat(),
        end=resident.monitoring_end.isoformat(),
    )
    return True


def returned_lead(
    db: Session, settings: Settings, resident: Resident, checkin: Checkin, answers: Answers
) -> Lead | None:
    if not answers.returned:
        return None
    returned_on = (
        answers.return_date if answers.return_date and answers.return_date <= checkin.day else checkin.day
    )
    if not start_monitoring(db, settings, resident, returned_on):
        return None
    lead, _ = leads.create(
        db,
        leads.NewLead(
            source=LeadSource.CHECKIN,
            cause_key=f"resident:{resident.id}:returned:{returned_on.isoformat()}",
            station_id=resident.station_id,
            title=f"{resident.name} 已返回兰西",
            detail=(
                f"{returned_on.month}月{returned_on.day}日返回，居家观察至 "
                f"{resident.monitoring_end.month}月{resident.monitoring_end.day}日"
                if resident.monitoring_end
                else ""
            ),
            resident_id=resident.id,
            checkin_id=checkin.id,
            due_date=checkin.day + timedelta(days=1),
        ),
    )
    return lead


def after_checkin(
    db: Session, settings: Settings, resident: Resident, checkin: Checkin, answers: Answers, now: datetime
) -> list[Lead]:
    """Every lead a check-in's answers call for (none for a normal day away)."""
    made = [
        health_lead(db, settings, resident, checkin, answers, now),
        returned_lead(db, settings, resident, checkin, answers),
    ]
    return [lead for lead in made if lead is not None]


def close_ended_monitoring(db: Session, day: date, *, actor: audit.Actor = SYSTEM) -> int:
    """Residents whose observation period is over by ``day`` are closed, the reason recorded."""
    ending = db.scalars(
        select(Resident).where(Resident.status == ResidentStatus.MONITORING, Resident.monitoring_end <= day)
    ).all()
    for resident in ending:
        start, end = resident.monitoring_start, resident.monitoring_end
        period = f"{start.isoformat()} 至 {end.isoformat()}" if start and end else ""
        resident.status = ResidentStatus.CLOSED
        resident.closed_reason = f"居家观察期满（{period}）" if period else "居家观察期满"
        resident.closed_on = day
        audit.record(
            db,
            actor,
            "resident.monitoring_closed",
            record_type="resident",
            record_id=resident.id,
            reason=resident.closed_reason,
        )
    return len(ending)
