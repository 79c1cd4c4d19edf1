"""The leads a staff member works: their stations' (the whole county for county-level accounts),
filtered by status, source and priority, the urgent and the overdue first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.models import Checkin, Lead, LeadPriority, LeadSource, LeadStatus
from bot.services.residents import Page
from bot.services.scope import Scope
from bot.services.stats import overdue_condition

PER_PAGE = 50
NOT_DONE = "active"  # the default status filter: open and in progress


@dataclass(frozen=True)
class LeadFilter:
    status: str = NOT_DONE  # active | open | in_progress | done | all
    source: str = ""  # "" | checkin | tip
    priority: str = ""  # "" | high | normal
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> LeadFilter:
        """From query parameters; anything unknown falls back to the default."""
        status = args.get("status", NOT_DONE)
        source = args.get("source", "")
        priority = args.get("priority", "")
        page = args.get("page", "1")
        return cls(
            status=status if status in (NOT_DONE, "all", *LeadStatus) else NOT_DONE,
            source=source if source in set(LeadSource) else "",
            priority=priority if priority in set(LeadPriority) else "",
            page=max(int(page), 1) if page.isdigit() else 1,
        )

    def params(self, **changes: object) -> dict[str, object]:
        values: dict[str, object] = {"status": self.status, "source": self.source, "priority": self.priority}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}


def list_page(db: Session, scope: Scope, wanted: LeadFilter, today: date) -> Page:
    stmt = scope.filter(select(Lead), Lead.station_id)
    if wanted.status == NOT_DONE:
        stmt = stmt.where(Lead.status != LeadStatus.DONE)
    elif wanted.status != "all":
        stmt = stmt.where(Lead.status == LeadStatus(wanted.status))
    if wanted.source:
        stmt = stmt.where(Lead.source == LeadSource(wanted.source))
    if wanted.priority:
        stmt = stmt.where(Lead.priority == LeadPriority(wanted.priority))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (
        case((overdue_condition(today), 0), else_=1),
        case((Lead.priority == LeadPriority.HIGH, 0), else_=1),
        case((Lead.status == LeadStatus.DONE, 1), else_=0),
        Lead.created_at.desc(),
        Lead.id.desc(),
    )
    rows = db.scalars(stmt.order_by(*order).limit(PER_PAGE).offset((wanted.page - 1) * PER_PAGE))
    return Page(list(rows), total, wanted.page, PER_PAGE)


def is_overdue(lead: Lead, today: date) -> bool:
    return lead.status != LeadStatus.DONE and lead.due_date is not None and lead.due_date < today


def get_visible(db: Session, scope: Scope, lead_id: int) -> Lead | None:
    """The lead if the scope may see it; None both when absent and when out of scope."""
    lead = db.get(Lead, lead_id)
    if lead is None or not scope.allows_station(lead.station_id):
        return None
    return lead


def checkin_of(db: Session, lead: Lead) -> Checkin | None:
    return db.get(Checkin, lead.checkin_id) if lead.checkin_id is not None else None
