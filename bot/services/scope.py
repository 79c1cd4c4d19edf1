"""Jurisdiction scoping: which stations' records a staff member may see.

County-level accounts see everything; a township account sees its stations; a station
officer sees only their own station. Every query for residents, check-ins, visits or
leads goes through ``Scope.filter`` so no view can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.models import Jurisdiction, JurisdictionKind, StaffUser

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class Scope:
    station_ids: frozenset[int] | None  # None: the whole county

    @property
    def is_county(self) -> bool:
        return self.station_ids is None

    def allows_station(self, station_id: int | None) -> bool:
        return self.station_ids is None or station_id in self.station_ids

    def filter(self, stmt: Select[*Ts], station_column: Any) -> Select[*Ts]:
        if self.station_ids is None:
            return stmt
        return stmt.where(station_column.in_(self.station_ids))


COUNTY = Scope(None)


def scope_for(db: Session, user: StaffUser) -> Scope:
    jurisdiction = user.jurisdiction
    if jurisdiction.kind == JurisdictionKind.COUNTY:
        return COUNTY
    if jurisdiction.kind == JurisdictionKind.STATION:
        return Scope(frozenset({jurisdiction.id}))
    stations = db.scalars(
        select(Jurisdiction.id).where(
            Jurisdiction.parent_id == jurisdiction.id, Jurisdiction.kind == JurisdictionKind.STATION
        )
    )
    return Scope(frozenset(stations))
