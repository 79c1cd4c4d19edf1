"""Residents: scoped queries and lookups by identifier (through the blind index)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.models import Resident
from bot.services import audit
from bot.services.audit import Actor
from bot.services.scope import Scope

_SEPARATORS = re.compile(r"[\s\-]")
_MOBILE = re.compile(r"1\d{10}")
_ID_NUMBER = re.compile(r"\d{17}[\dX]|\d{15}")


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


def identifier_clause(q: str) -> ColumnElement[bool] | None:
    """A whole phone or ID number typed in a search box, matched exactly through its blind index."""
    compact = _SEPARATORS.sub("", q).upper()
    if _MOBILE.fullmatch(compact):
        return Resident.phone_hash == privacy.vault().blind_index(compact, kind="phone")
    if _ID_NUMBER.fullmatch(compact):
        return Resident.id_number_hash == privacy.vault().blind_index(compact, kind="id")
    return None


def list_page(db: Session, scope: Scope, *, page: int = 1, per_page: int = 50, q: str = "") -> Page:
    """A page of residents; ``q`` is part of a name, or a whole phone or ID number."""
    per_page = min(max(per_page, 1), 200)
    page = max(page, 1)
    stmt = scope.filter(select(Resident), Resident.station_id)
    q = q.strip()[:32]
    if q:
        by_identifier = identifier_clause(q)
        stmt = stmt.where(
            by_identifier if by_identifier is not None else Resident.name.contains(q, autoescape=True)
        )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(db.scalars(stmt.order_by(Resident.id).limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


REVEALABLE: dict[str, str] = {"phone": "手机号", "id_number": "身份证号"}


def reveal(db: Session, actor: Actor, resident: Resident, field: str) -> str:
    """One identifier in clear, for one viewer, once: every reveal is an audit event."""
    if field not in REVEALABLE:
        raise ValueError(f"not a revealable field: {field}")
    value: str = getattr(resident, field) or ""
    audit.record(db, actor, "pii.reveal", record_type="resident", record_id=resident.id, field=field)
    return value
