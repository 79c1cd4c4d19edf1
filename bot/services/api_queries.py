"""Scoped, filtered, paginated record lists for the JSON API.

Every list of station-bound records (check-ins, visits, leads) goes through ``Scope.filter``;
tips, clusters and advisories belong to the county and are guarded by role in the API.
Pages are ordered by id (newest first where people read the latest), so pages never overlap.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from bot.models import (
    Advisory,
    AdvisoryStatus,
    Checkin,
    ClusterStatus,
    Delivery,
    Lead,
    LeadSource,
    LeadStatus,
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


def visits(
    db: Session, scope: Scope, *, day: date | None, resident_id: int | None, page: int, per_page: int
) -> Page:
    stmt = scope.filter(select(Visit), Visit.station_id)
    if day is not None:
        stmt = stmt.where(Visit.day == day)
    if resident_id is not None:
        stmt = stmt.where(Visit.resident_id == resident_id)
    return paginate(db, stmt.order_by(Visit.id.desc()), page=page, per_page=per_page)


def leads(
    db: Session,
    scope: Scope,
    *,
    source: LeadSource | None,
    status: LeadStatus | None,
    page: int,
    per_page: int,
) -> Page:
    stmt = scope.filter(select(Lead).options(selectinload(Lead.station)), Lead.station_id)
    if source is not None:
        stmt = stmt.where(Lead.source == source)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    return paginate(db, stmt.order_by(Lead.id.desc()), page=page, per_page=per_page)


def tips(db: Session, *, cluster_id: int | None, page: int, per_page: int) -> Page:
    stmt = select(Tip)
    if cluster_id is not None:
        stmt = stmt.where(Tip.cluster_id == cluster_id)
    return paginate(db, stmt.order_by(Tip.id.desc()), page=page, per_page=per_page)


def clusters(db: Session, *, status: ClusterStatus | None, page: int, per_page: int) -> Page:
    stmt = select(TipCluster)
    if status is not None:
        stmt = stmt.where(TipCluster.status == status)
    return paginate(
        db, stmt.order_by(TipCluster.last_seen.desc(), TipCluster.id.desc()), page=page, per_page=per_page
    )


def advisories(db: Session, *, status: AdvisoryStatus | None, page: int, per_page: int) -> Page:
    stmt = select(Advisory)
    if status is not None:
        stmt = stmt.where(Advisory.status == status)
    return paginate(db, stmt.order_by(Advisory.id.desc()), page=page, per_page=per_page)


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
