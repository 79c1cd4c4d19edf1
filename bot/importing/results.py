"""Per-row error records shared by the resident and jurisdiction validators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from bot.importing.errors import FieldError
from bot.importing.masking import mask_value

T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """One problem in one cell; ``value_shown_masked`` never holds a full ID or phone number."""

    row_number: int
    column_zh: str
    value_shown_masked: str
    message_zh: str

    @property
    def cell_message(self) -> str:
        """「身份证号」：校验位不正确"""
        return f"「{self.column_zh}」：{self.message_zh}"

    def __str__(self) -> str:
        """第 12 行「身份证号」：校验位不正确"""
        return f"第 {self.row_number} 行{self.cell_message}"


@dataclass(frozen=True)
class BadRow:
    """A rejected row as it was in the file, with everything wrong with it."""

    row_number: int
    values: Mapping[str, str]
    errors: tuple[RowError, ...]

    @property
    def explanation(self) -> str:
        return "；".join(e.cell_message for e in self.errors)


class RowChecker:
    """Runs validators over one row's cells, collecting errors instead of stopping at the first."""

    def __init__(self, row_number: int, values: Mapping[str, str]) -> None:
        self.row_number = row_number
        self.values = values
        self.errors: list[RowError] = []

    def check(self, column: str, validate: Callable[[str], T], *, required: bool = False) -> T | None:
        """The validated value; None when the cell is empty (an error if required) or invalid."""
        raw = self.values.get(column, "")
        if not raw.strip():
            if required:
                self.add(column, "不能为空")
            return None
        try:
            return validate(raw)
        except FieldError as exc:
            self.add(column, exc.message_zh)
            return None

    def add(self, column: str, message_zh: str) -> None:
        shown = mask_value(column, self.values.get(column, ""))
        self.errors.append(RowError(self.row_number, column, shown, message_zh))


@dataclass
class ErrorLog:
    """Errors of a whole file plus the raw values of the rows they concern (and only those)."""

    errors: list[RowError] = field(default_factory=list)
    bad_values: dict[int, Mapping[str, str]] = field(default_factory=dict)

    def record(self, row_number: int, values: Mapping[str, str], errors: list[RowError]) -> None:
        if errors:
            self.errors.extend(errors)
            self.bad_values[row_number] = values

    def bad_rows(self) -> list[BadRow]:
        by_row: dict[int, list[RowError]] = {}
        for error in self.errors:
            by_row.setdefault(error.row_number, []).append(error)
        return [BadRow(n, self.bad_values.get(n, {}), tuple(by_row[n])) for n in sorted(by_row)]
