"""Importing a validated resident registry into the database: upsert by ID number, audited.

The same person (same ID number, found through its blind index) imported again is updated,
never duplicated; each change is audited with its old and new values masked, and each import
with its counts.
Rows are handled in chunks: one SELECT per chunk finds the residents already known, new ones
are inserted with one executemany, so 13,000 rows take seconds. Nothing commits here: the
caller's transaction makes the import all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.flows.understanding.places import AmbiguousPlace, mentioned, one_place
from bot.importing import ResidentRow, ValidationResult, read_table, validate_resident_rows
from bot.models import Jurisdiction, JurisdictionKind, Resident, utcnow
from bot.services import audit
from bot.services.audit import Actor

CHUNK = 500
ProgressFn = Callable[[int], None]
"""Called with the number of rows just handled (for a progress bar)."""

# Columns an import may change on a known resident; the ID number is the key and never changes.
_UPDATABLE = (
    "name",
    "phone",
    "household_address",
    "current_address",
    "current_city",
    "away_since",
    "away_reason",
    "expected_return",
    "station_id",
    "township_id",
    "note",
)


class ImportRefused(Exception):
    """The file has errors and invalid rows may not be skipped: nothing was imported."""

    def __init__(self, result: ValidationResult) -> None:
        problems = len(result.file_errors) + len(result.bad_rows)
        super().__init__(f"文件有 {problems} 处错误，未导入任何数据")
        self.result = result


@dataclass(frozen=True)
class ImportSummary:
    total_rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int  # invalid rows left out (only with skip_invalid)
    created_ids: tuple[int, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class _Places:
    """Registered stations and townships by name, to turn validated names into ids."""

    stations: Mapping[str, Sequence[Jurisdiction]]
    townships: Mapping[str, Jurisdiction]

    def station_id(self, row: ResidentRow) -> int:
        candidates = self.stations[row.station]
        township = self.townships[row.township]
        # Two stations may share a name in different townships: the row's township decides.
        chosen = next((s for s in candidates if s.parent_id == township.id), candidates[0])
        return chosen.id


def _places(db: Session) -> _Places:
    stations: dict[str, list[Jurisdiction]] = {}
    townships: dict[str, Jurisdiction] = {}
    for place in db.scalars(
        select(Jurisdiction).where(
            Jurisdiction.kind.in_((JurisdictionKind.STATION, JurisdictionKind.TOWNSHIP))
        )
    ):
        if place.kind == JurisdictionKind.STATION:
            stations.setdefault(place.name, []).append(place)
        else:
            townships[place.name] = place
    return _Places(stations, townships)


def known_names(db: Session) -> tuple[list[str], list[str]]:
    """(station names, township names) registered, for validation."""
    places = _places(db)
    return sorted(places.stations), sorted(places.townships)


def validate_file(db: Session, data: bytes, filename: str, *, today: dt.date) -> ValidationResult:
    """Read and validate a registry file against the registered jurisdictions.

    Raises ``bot.importing.ImportFileError`` (Chinese message) when the file cannot be read."""
    stations, townships = known_names(db)
    table = read_table(data, filename)
    return validate_resident_rows(table, known_stations=stations, known_townships=townships, today=today)


@lru_cache(maxsize=4096)
def city_of(address: str) -> str:
    """The city an address names (黑龙江省哈尔滨市南岗区 → 哈尔滨), or "" when unclear."""
    try:
        place = one_place(mentioned(address))
    except AmbiguousPlace:
        return ""
    return place.name if place is not None else ""


def _values(row: ResidentRow, places: _Places) -> dict[str, Any]:
    return {
        "name": row.name,
        "phone": row.phone,
        "household_address": row.household_address,
        "current_address": row.current_address,
        "current_city": city_of(row.current_address) if row.current_address else "",
        "away_since": row.away_since,
        "away_reason": row.away_reason,
        "expected_return": row.expected_return,
        "station_id": places.station_id(row),
        "township_id": places.townships[row.township].id,
        "note": row.note,
    }


def _shown(column: str, value: object, names: Mapping[int, str]) -> str:
    """A value as the audit log may hold it: identifiers masked, free text shortened."""
    if value is None or value == "":
        return ""
    if column == "phone":
        return privacy.mask_phone(str(value))
    if column == "name":
        return privacy.mask_name(str(value))
    if column in ("station_id", "township_id") and isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 8 else text[:8] + "…"


def _chunks(rows: Sequence[ResidentRow]) -> Iterator[Sequence[ResidentRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


@dataclass
class _Importer:
    db: Session
    actor: Actor
    places: _Places
    source: str
    created_ids: list[int] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0
    names: dict[int, str] = field(init=False)  # jurisdiction names, for the audit of a transfer

    def __post_init__(self) -> None:
        stations = {s.id: s.name for group in self.places.stations.values() for s in group}
        self.names = stations | {t.id: t.name for t in self.places.townships.values()}

    def chunk(self, rows: Sequence[ResidentRow]) -> None:
        vault = privacy.vault()
        hashes = {vault.blind_index(row.id_number, kind="id"): row for row in rows}
        known = {
            r.id_number_hash: r
            for r in self.db.scalars(select(Resident).where(Resident.id_number_hash.in_(list(hashes))))
        }
        fresh: list[dict[str, Any]] = []
        for digest, row in hashes.items():
            values = _values(row, self.places)
            existing = known.get(digest)
            if existing is None:
                fresh.append(self._new(row, digest, values))
            else:
                self._update(existing, values, row.row_number)
        if fresh:
            self._insert(fresh)

    def _new(self, row: ResidentRow, digest: str, values: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        return values | {
            "id_number": row.id_number,
            "id_number_hash": digest,
            "phone_hash": privacy.vault().blind_index(row.phone, kind="phone"),
            "gender": "男" if int(row.id_number[16]) % 2 else "女",
            "birth_year": int(row.id_number[6:10]),
            "created_at": now,
            "updated_at": now,
        }

    def _insert(self, fresh: list[dict[str, Any]]) -> None:
        # One executemany per chunk; creations are audited by the import's summary event (with
        # the count), changes to known residents one event each (with what changed).
        stmt = insert(Resident).returning(Resident.id, sort_by_parameter_order=True)
        self.created_ids.extend(self.db.scalars(stmt, fresh))

    def _update(self, resident: Resident, values: dict[str, Any], line: int) -> None:
        changes: dict[str, list[str]] = {}
        for column in _UPDATABLE:
            old, new = getattr(resident, column), values[column]
            if old != new:
                changes[column] = [_shown(column, old, self.names), _shown(column, new, self.names)]
                setattr(resident, column, new)
        if "phone" in changes:
            resident.phone_hash = privacy.vault().blind_index(values["phone"], kind="phone")
        if not changes:
            self.unchanged += 1
            return
        self.updated += 1
        audit.record(
            self.db,
            self.actor,
            "resident.import",
            record_type="resident",
            record_id=resident.id,
            source=self.source,
            row=line,
            changes=changes,
        )


def apply(
    db: Session,
    actor: Actor,
    result: ValidationResult,
    *,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
    source: str = "",
) -> ImportSummary:
    """Write the valid rows: create new residents, update known ones (audited). Never commits.

    Refuses (ImportRefused) a file with any error unless ``skip_invalid``; a file-level error
    (a missing column) is always refused."""
    if result.file_errors or (not result.ok and not skip_invalid):
        raise ImportRefused(result)
    importer = _Importer(db, actor, _places(db), source[:120])
    for rows in _chunks(result.rows):
        importer.chunk(rows)
        db.flush()
        if progress is not None:
            progress(len(rows))
    summary = ImportSummary(
        total_rows=result.total_rows,
        created=len(importer.created_ids),
        updated=importer.updated,
        unchanged=importer.unchanged,
        skipped=len(result.bad_rows),
        created_ids=tuple(importer.created_ids),
    )
    audit.record(
        db,
        actor,
        "residents.import",
        record_type="import",
        source=source[:120],
        rows=summary.total_rows,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
        skipped=summary.skipped,
    )
    return summary
