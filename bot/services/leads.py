"""Leads: work for a police station from an abnormal check-in or a tip, with its outcome.

A lead is created once per cause (``cause_key``), so the same fever reported twice, or a
cluster sent twice, never makes two leads. Station officers see their station's leads; the
reporter of a tip is never part of a lead (need-to-know).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Lead, LeadPriority, LeadSource, LeadStatus, utcnow
from bot.services import audit
from bot.services.audit import Actor

TIP_OUTCOMES = ("批评教育", "行政处罚", "刑事立案", "查无实据", "其他")
CHECKIN_OUTCOMES = ("已电话核实", "已上门核查", "已送医就诊", "已落实居家隔离", "已解除", "其他")


class LeadError(Exception):
    """A refused change to a lead; the message is shown to staff."""


@dataclass(frozen=True)
class NewLead:
    source: LeadSource
    cause_key: str
    station_id: int
    title: str
    detail: str = ""
    priority: LeadPriority = LeadPriority.NORMAL
    resident_id: int | None = None
    checkin_id: int | None = None
    cluster_id: int | None = None
    due_date: date | None = None


def create(db: Session, new: NewLead) -> tuple[Lead, bool]:
    """The lead for this cause, created if there is none yet. Returns (lead, created)."""
    existing = db.scalar(select(Lead).where(Lead.cause_key == new.cause_key))
    if existing is not None:
        return existing, False
    lead = Lead(
        source=new.source,
        cause_key=new.cause_key,
        station_id=new.station_id,
        title=new.title[:200],
        detail=new.detail,
        priority=new.priority,
        resident_id=new.resident_id,
        checkin_id=new.checkin_id,
        cluster_id=new.cluster_id,
        due_date=new.due_date,
    )
    db.add(lead)
    db.flush()
    return lead, True


def outcomes_for(lead: Lead) -> tuple[str, ...]:
    return TIP_OUTCOMES if lead.source == LeadSource.TIP else CHECKIN_OUTCOMES


def start(db: Session, actor: Actor, lead: Lead) -> None:
    if lead.status == LeadStatus.OPEN:
        lead.status = LeadStatus.IN_PROGRESS
        audit.record(db, actor, "lead.start", record_type="lead", record_id=lead.id)


def record_outcome(db: Session, actor: Actor, lead: Lead, outcome: str, note: str = "") -> None:
    if outcome not in outcomes_for(lead):
        raise LeadError(f"处理结果须为：{'、'.join(outcomes_for(lead))}")
    if lead.status == LeadStatus.DONE:
        raise LeadError("该线索已办结")
    lead.outcome, lead.outcome_note = outcome, note.strip()[:2000]
    lead.status, lead.closed_at, lead.closed_by_id = LeadStatus.DONE, utcnow(), actor.user_id
    audit.record(db, actor, "lead.outcome", record_type="lead", record_id=lead.id, outcome=outcome)
