"""Importing the township → police-station tree from a jurisdiction file (乡镇街道, 派出所, 代码).

Townships are matched by code when the file gives one, else by name under the county; stations
by name anywhere in the county, so a station that serves several townships stays one station,
placed under the first township that lists it. Nothing commits here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.importing import JurisdictionImport, read_table, validate_jurisdiction_rows
from bot.models import Jurisdiction, JurisdictionKind
from bot.services import audit, jurisdictions
from bot.services.audit import Actor


class JurisdictionImportRefused(Exception):
    """The file has errors: nothing was imported."""

    def __init__(self, result: JurisdictionImport) -> None:
        super().__init__(f"文件有 {len(result.file_errors) + len(result.errors)} 处错误，未导入任何数据")
        self.result = result


@dataclass(frozen=True)
class JurisdictionSummary:
    townships_created: int
    townships_kept: int
    stations_created: int
    stations_kept: int


def validate_file(data: bytes, filename: str) -> JurisdictionImport:
    """Read and validate a jurisdiction file; ``bot.importing.ImportFileError`` if unreadable."""
    return validate_jurisdiction_rows(read_table(data, filename))


def _station(db: Session, township: Jurisdiction, name: str, placed: set[int]) -> bool:
    """Create or place the station; True when it was created."""
    found = db.scalar(
        select(Jurisdiction)
        .where(Jurisdiction.kind == JurisdictionKind.STATION, Jurisdiction.name == name)
        .order_by(Jurisdiction.id)
        .limit(1)
    )
    if found is None:
        created, _ = jurisdictions.upsert_child(db, township, JurisdictionKind.STATION, name)
        placed.add(created.id)
        return True
    if found.id not in placed:  # first mention in this file decides where it belongs
        found.parent_id = township.id
        placed.add(found.id)
    return False


def apply(db: Session, actor: Actor, result: JurisdictionImport, *, source: str = "") -> JurisdictionSummary:
    """Create or update every township and station of a valid file (audited); refuses one with errors."""
    if not result.ok:
        raise JurisdictionImportRefused(result)
    county = jurisdictions.county(db)
    counts = {"townships_created": 0, "townships_kept": 0, "stations_created": 0, "stations_kept": 0}
    placed: set[int] = set()
    for entry in result.townships:
        township, created = jurisdictions.upsert_child(
            db, county, JurisdictionKind.TOWNSHIP, entry.name, entry.code
        )
        counts["townships_created" if created else "townships_kept"] += 1
        for name in entry.stations:
            counts["stations_created" if _station(db, township, name, placed) else "stations_kept"] += 1
    db.flush()
    audit.record(db, actor, "jurisdictions.import", record_type="import", source=source[:120], **counts)
    return JurisdictionSummary(**counts)
