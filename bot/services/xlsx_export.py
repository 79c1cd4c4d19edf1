"""Writing a table to .xlsx in write-only (streaming) mode, every text cell neutralised."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.importing.report import neutralise

Cell = str | int | float | date | datetime | None


def safe(value: object) -> Cell:
    """A value fit for a cell: numbers and dates as they are, anything else as neutralised text."""
    if value is None or isinstance(value, int | float | date):
        return value
    return neutralise(str(value))


def build(
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    notes: Sequence[tuple[str, str]] = (),
    widths: Sequence[int] = (),
) -> bytes:
    """One sheet of ``rows`` under a bold header row, and a 说明 sheet of ``notes`` (key, value)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(neutralise(sheet_title)[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=neutralise(text))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([safe(value) for value in row])
    if notes:
        about = book.create_sheet("说明")
        for key, value in notes:
            about.append([safe(key), safe(value)])
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
