"""The county → township/street → police-station tree."""

from __future__ import annotations

import hashlib

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.models import Jurisdiction, JurisdictionKind

COUNTY_NAME = "兰西县"
COUNTY_CODE = "231222"  # the county's administrative division code


class JurisdictionError(Exception):
    """A name or code that matches no jurisdiction."""


def _derived_code(parent_code: str, name: str) -> str:
    return f"{parent_code}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"  # noqa: S324 - a label, not security


def county(db: Session) -> Jurisdiction:
    found = db.scalar(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.COUNTY))
    if found is None:
        found = Jurisdiction(kind=JurisdictionKind.COUNTY, name=COUNTY_NAME, code=COUNTY_CODE)
        db.add(found)
        db.flush()
    return found


def upsert_child(
    db: Session, parent: Jurisdiction, kind: JurisdictionKind, name: str, code: str | None = None
) -> tuple[Jurisdiction, bool]:
    """The child of ``parent`` with this name (renamed by code when a code is given); created if new."""
    name = name.strip()
    query = select(Jurisdiction).where(Jurisdiction.kind == kind)
    query = (
        query.where(Jurisdiction.code == code)
        if code
        else query.where(Jurisdiction.parent_id == parent.id, Jurisdiction.name == name)
    )
    found = db.scalar(query)
    if found is not None:
        found.name, found.parent_id = name, parent.id
        return found, False
    created = Jurisdiction(
        parent_id=parent.id, kind=kind, name=name, code=code or _derived_code(parent.code, name)
    )
    db.add(created)
    db.flush()
    return created, True


def find(db: Session, name_or_code: str, kind: JurisdictionKind | None = None) -> Jurisdiction:
    value = name_or_code.strip()
    query = select(Jurisdiction).where(or_(Jurisdiction.code == value, Jurisdiction.name == value))
    if kind is not None:
        query = query.where(Jurisdiction.kind == kind)
    matches = list(db.scalars(query))
    if len(matches) != 1:
        problem = "matches no" if not matches else "matches more than one"
        raise JurisdictionError(f"{value!r} {problem} jurisdiction; use its code")
    return matches[0]


def all_of_kind(db: Session, kind: JurisdictionKind) -> list[Jurisdiction]:
    return list(db.scalars(select(Jurisdiction).where(Jurisdiction.kind == kind).order_by(Jurisdiction.code)))
