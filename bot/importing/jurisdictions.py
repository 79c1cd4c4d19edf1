"""Validating a jurisdiction file (乡镇街道, 派出所, optional 代码) into a township → stations tree."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.importing import headers as col
from bot.importing.errors import FieldError
from bot.importing.reader import Table
from bot.importing.results import BadRow, ErrorLog, RowChecker, RowError

_CODE = re.compile(r"[0-9A-Za-z_\-]{1,32}")


@dataclass(frozen=True)
class TownshipEntry:
    name: str
    code: str | None
    stations: tuple[str, ...]


@dataclass
class JurisdictionImport:
    """Townships in file order, each with its stations (a station may serve several townships)."""

    townships: list[TownshipEntry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    def as_mapping(self) -> dict[str, list[str]]:
        return {t.name: list(t.stations) for t in self.townships}


def normalize_unit_name(text: str) -> str:
    """A township or station name: NFKC, no spaces, 2-50 characters, not just digits."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if not 2 <= len(value) <= 50:
        raise FieldError("名称应为 2–50 个字")
    if value.isdigit():
        raise FieldError("名称不能全是数字")
    return value


def normalize_code(text: str) -> str:
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).removeprefix("'")
    if not _CODE.fullmatch(value):
        raise FieldError("代码只能包含字母、数字、- 和 _，最多 32 位")
    return value


@dataclass
class _Township:
    code: str | None
    code_row: int
    stations: list[str]


@dataclass
class _Tree:
    townships: dict[str, _Township] = field(default_factory=dict)
    code_owner: dict[str, str] = field(default_factory=dict)

    def add(self, checker: RowChecker, township: str, station: str, code: str | None) -> None:
        entry = self.townships.setdefault(township, _Township(None, 0, []))
        if code is not None and not self._code_fits(checker, township, entry, code):
            return
        if station not in entry.stations:
            entry.stations.append(station)

    def _code_fits(self, checker: RowChecker, township: str, entry: _Township, code: str) -> bool:
        owner = self.code_owner.get(code)
        if owner is not None and owner != township:
            checker.add(col.CODE, f"该代码已用于「{owner}」")
            return False
        if entry.code is not None and entry.code != code:
            checker.add(col.CODE, f"与第 {entry.code_row} 行给同一乡镇街道填写的代码不同")
            return False
        if entry.code is None:
            entry.code, entry.code_row = code, checker.row_number
            self.code_owner[code] = township
        return True


def validate_jurisdiction_rows(table: Table) -> JurisdictionImport:
    """Township → stations (and codes); rows with errors are left out and explained."""
    result = JurisdictionImport()
    missing = [c for c in col.JURISDICTION_REQUIRED if c not in table.headers]
    if missing:
        names = "、".join("派出所" if c == col.STATION else c for c in missing)
        result.file_errors.append(f"缺少必填列：{names}")
        return result
    tree, log = _Tree(), ErrorLog()
    for row_number, values in table:
        result.total_rows += 1
        checker = RowChecker(row_number, values)
        township = checker.check(col.TOWNSHIP, normalize_unit_name, required=True)
        station = checker.check(col.STATION, normalize_unit_name, required=True)
        code = checker.check(col.CODE, normalize_code)
        if township and station and not checker.errors:
            tree.add(checker, township, station, code)
        log.record(row_number, values, checker.errors)
    result.townships = [
        TownshipEntry(name, t.code, tuple(t.stations)) for name, t in tree.townships.items() if t.stations
    ]
    result.errors, result.bad_rows = log.errors, log.bad_rows()
    return result
