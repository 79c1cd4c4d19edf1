"""Validating a resident registry file row by row into ``ResidentRow`` records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import partial

from bot.importing import headers as col
from bot.importing.masking import mask_id_number
from bot.importing.matching import STATION_SUFFIXES, TOWNSHIP_SUFFIXES, NameMatcher
from bot.importing.reader import Table
from bot.importing.results import BadRow, ErrorLog, RowChecker, RowError
from bot.importing.validators import (
    normalize_id_number,
    normalize_name,
    normalize_phone,
    normalize_text,
    parse_date,
)

TEXT_LIMITS: Mapping[str, int] = {
    col.HOUSEHOLD_ADDRESS: 200,
    col.CURRENT_ADDRESS: 200,
    col.AWAY_REASON: 100,
    col.NOTE: 500,
}


@dataclass(frozen=True)
class ResidentRow:
    name: str
    id_number: str
    phone: str
    household_address: str
    current_address: str
    away_since: dt.date | None
    away_reason: str
    expected_return: dt.date | None
    station: str
    township: str
    note: str
    row_number: int


@dataclass
class ValidationResult:
    """Outcome of a whole file. ``errors`` holds every row error, duplicates included."""

    headers: tuple[str, ...]
    rows: list[ResidentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates_in_file: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors


@dataclass(frozen=True)
class _Context:
    stations: NameMatcher
    townships: NameMatcher
    today: dt.date

    def id_number(self, text: str) -> str:
        return normalize_id_number(text, today=self.today)

    def date(self, text: str) -> dt.date:
        return parse_date(text, today=self.today)


def _check_dates(checker: RowChecker, away: dt.date | None, back: dt.date | None, today: dt.date) -> None:
    if away is not None and away > today:
        checker.add(col.AWAY_SINCE, "外出时间晚于今天")
    if away is not None and back is not None and back < away:
        checker.add(col.EXPECTED_RETURN, "预计返回时间早于外出时间")


def _resident(checker: RowChecker, ctx: _Context) -> tuple[str | None, ResidentRow | None]:
    """(the valid ID number if any, the row when everything in it is valid)."""
    name = checker.check(col.NAME, normalize_name, required=True)
    id_number = checker.check(col.ID_NUMBER, ctx.id_number, required=True)
    phone = checker.check(col.PHONE, normalize_phone, required=True)
    station = checker.check(col.STATION, ctx.stations.match, required=True)
    township = checker.check(col.TOWNSHIP, ctx.townships.match, required=True)
    away_since = checker.check(col.AWAY_SINCE, ctx.date)
    expected_return = checker.check(col.EXPECTED_RETURN, ctx.date)
    text = {c: checker.check(c, partial(normalize_text, max_length=n)) or "" for c, n in TEXT_LIMITS.items()}
    _check_dates(checker, away_since, expected_return, ctx.today)
    if checker.errors or not (name and id_number and phone and station and township):
        return id_number, None
    return id_number, ResidentRow(
        name=name,
        id_number=id_number,
        phone=phone,
        household_address=text[col.HOUSEHOLD_ADDRESS],
        current_address=text[col.CURRENT_ADDRESS],
        away_since=away_since,
        away_reason=text[col.AWAY_REASON],
        expected_return=expected_return,
        station=station,
        township=township,
        note=text[col.NOTE],
        row_number=checker.row_number,
    )


def _duplicate_errors(rows_by_id: Mapping[str, list[int]]) -> list[RowError]:
    errors = []
    for id_number, numbers in rows_by_id.items():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = "、".join(str(n) for n in numbers if n != number)
            message = f"与第 {others} 行的身份证号重复，这些行都未导入，请核实后只保留一行"
            errors.append(RowError(number, col.ID_NUMBER, mask_id_number(id_number), message))
    return errors


def _missing_columns(table: Table) -> list[str]:
    missing = [c for c in col.RESIDENT_REQUIRED if c not in table.headers]
    return [f"缺少必填列：{'、'.join(missing)}"] if missing else []


def validate_resident_rows(
    table: Table,
    *,
    known_stations: Collection[str],
    known_townships: Collection[str],
    today: dt.date,
) -> ValidationResult:
    """Validate every row; good rows in ``rows``, the rest explained in ``errors`` and ``bad_rows``.

    Rows sharing an ID number are all rejected: the file does not say which one is right.
    """
    result = ValidationResult(
        headers=table.headers, file_errors=_missing_columns(table), file_warnings=list(table.warnings)
    )
    if result.file_errors:
        return result
    ctx = _Context(
        stations=NameMatcher(known_stations, kind="派出所", suffixes=STATION_SUFFIXES),
        townships=NameMatcher(known_townships, kind="乡镇街道", suffixes=TOWNSHIP_SUFFIXES),
        today=today,
    )
    log = ErrorLog()
    rows_by_id: dict[str, list[int]] = {}
    for row_number, values in table:
        result.total_rows += 1
        checker = RowChecker(row_number, values)
        id_number, resident = _resident(checker, ctx)
        log.record(row_number, values, checker.errors)
        if id_number is not None:
            rows_by_id.setdefault(id_number, []).append(row_number)
        if resident is not None:
            result.rows.append(resident)
    result.warnings = list(table.notices)
    result.duplicates_in_file = _duplicate_errors(rows_by_id)
    if result.duplicates_in_file:
        _reject_duplicates(result, log, table)
    result.errors = sorted(log.errors, key=lambda e: e.row_number)
    result.bad_rows = log.bad_rows()
    return result


def _reject_duplicates(result: ValidationResult, log: ErrorLog, table: Table) -> None:
    numbers = {e.row_number for e in result.duplicates_in_file}
    result.rows = [r for r in result.rows if r.row_number not in numbers]
    log.errors.extend(result.duplicates_in_file)
    # Rows that were otherwise valid were not kept as read; read the file once more for them.
    wanted = numbers - log.bad_values.keys()
    if wanted:
        log.bad_values.update((n, values) for n, values in table if n in wanted)
