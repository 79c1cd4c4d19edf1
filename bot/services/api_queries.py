"""Scoped, filtered, paginated record lists for the JSON API.

Every list of station-bound records (check-ins, visits, leads) goes through ``Scope.filter``;
tips, clusters and advisories belong to the county and are guarded by role in the API.
Pages are ordered by id (newest first where people read the latest), so pages never overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from bot.models import (
    Advisory,
    Checkin,
    Delivery,
    Lead,
    Tip,
    TipCluster,
    Visit,
)
from bot.services.residents import Page
from bot.services.scope import Scope

AnySelect = Select[Any]


def paginate(db: Session, stmt: AnySelect, *, page: int, per_page: int) -> Page:
    """One page of ``stmt`` (already ordered) and the total count of its rows."""
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def checkins(db: Session, scope: Scope, day: date, *, page: int, per_page: int) -> Page:
    stmt = scope.filter(select(Checkin).where(Checkin.day == day), Checkin.station_id)
    return paginate(db, stmt.order_by(Checkin.id), page=page, per_page=per_page)


@dataclass(frozen=True)
class Listing:
    """One kind of record as a paged list: what it selects, how it is scoped, filtered and ordered."""

    select: AnySelect
    order: tuple[Any, ...]
    filters: Mapping[str, Any]  # a parameter's name -> the column it must equal (None: not filtered)
    station_column: Any = None  # what Scope.filter applies to; None: county records, guarded by role

    def page(self, db: Session, scope: Scope, args: Mapping[str, Any], *, page: int, per_page: int) -> Page:
        stmt = self.select if self.station_column is None else scope.filter(self.select, self.station_column)
        for name, column in self.filters.items():
            if args[name] is not None:
                stmt = stmt.where(column == args[name])
        return paginate(db, stmt.order_by(*self.order), page=page, per_page=per_page)


VISITS = Listing(
    select(Visit),
    (Visit.id.desc(),),
    {"date": Visit.day, "resident_id": Visit.resident_id},
    Visit.station_id,
)
LEADS = Listing(
    select(Lead).options(selectinload(Lead.station)),
    (Lead.id.desc(),),
    {"source": Lead.source, "status": Lead.status},
    Lead.station_id,
)
TIPS = Listing(select(Tip), (Tip.id.desc(),), {"cluster_id": Tip.cluster_id})
CLUSTERS = Listing(
    select(TipCluster), (TipCluster.last_seen.desc(), TipCluster.id.desc()), {"status": TipCluster.status}
)
ADVISORIES = Listing(select(Advisory), (Advisory.id.desc(),), {"status": Advisory.status})


def deliveries(db: Session, advisory_id: int, *, page: int, per_page: int) -> Page | None:
    """The advisory's deliveries, or None when there is no such advisory."""
    if db.get(Advisory, advisory_id) is None:
        return None
    stmt = (
        select(Delivery)
        .where(Delivery.advisory_id == advisory_id)
        .options(selectinload(Delivery.group), selectinload(Delivery.outbox), selectinload(Delivery.advisory))
    )
    return paginate(db, stmt.order_by(Delivery.id), page=page, per_page=per_page)
