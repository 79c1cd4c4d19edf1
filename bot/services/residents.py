"""Residents: scoped queries and lookups by identifier (through the blind index)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.models import Resident
from bot.services.scope import Scope


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def get_visible(db: Session, scope: Scope, resident_id: int) -> Resident | None:
    """The resident if the scope may see them; None both when absent and when out of scope."""
    resident = db.get(Resident, resident_id)
    if resident is None or not scope.allows_station(resident.station_id):
        return None
    return resident


def find_by_id_number(db: Session, id_number: str) -> Resident | None:
    digest = privacy.vault().blind_index(id_number, kind="id")
    return db.scalar(select(Resident).where(Resident.id_number_hash == digest))


def list_page(db: Session, scope: Scope, *, page: int = 1, per_page: int = 50, q: str = "") -> Page:
    per_page = min(max(per_page, 1), 200)
    page = max(page, 1)
    stmt = scope.filter(select(Resident), Resident.station_id)
    if q:
        stmt = stmt.where(Resident.name.contains(q.strip()[:32], autoescape=True))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(db.scalars(stmt.order_by(Resident.id).limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)
