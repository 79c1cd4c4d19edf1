"""The approved daily report as an .xlsx workbook: a cover sheet, one sheet per table, the approvals.

Sheets follow ``bot.services.report_layout`` (the same tables as the page), with Chinese
headers, bold shaded header rows, frozen panes, widths, percentages as percentages and a
bold total row. Text cells are neutralised so a name or title can never become a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.importing.report import neutralise
from bot.models import DailyReport
from bot.services.report_layout import (
    DECISION_LABELS,
    REPORT_STATUS_LABELS,
    TABLES,
    Cell,
    CellKind,
    Table,
    headlines,
)
from bot.services.reports import HistoryEntry

TITLE = "兰西县疫情防控外出人员日报"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="9BA7B4")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FORMATS: dict[CellKind, str] = {"int": "0", "pct": "0.0%", "float": "0.0", "text": "@", "outcomes": "@"}


def workbook_bytes(report: DailyReport, entries: Sequence[HistoryEntry], tz: ZoneInfo) -> bytes:
    book = Workbook()
    cover = book.active
    assert cover is not None  # a new workbook always has its first sheet
    _cover(cover, report, entries, tz)
    for table in TABLES:
        _table_sheet(book.create_sheet(table.title[:31]), table, report)
    _history_sheet(book.create_sheet("审批记录"), entries, tz)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _put(sheet: Worksheet, row: int, col: int, value: Cell, kind: CellKind = "text") -> None:
    cell = sheet.cell(row=row, column=col, value=neutralise(value) if isinstance(value, str) else value)
    cell.number_format = _FORMATS[kind]
    cell.border = _BORDER


def _header(sheet: Worksheet, row: int, headers: Sequence[str]) -> None:
    for col, text in enumerate(headers, start=1):
        _put(sheet, row, col, text)
        cell = sheet.cell(row=row, column=col)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _title(sheet: Worksheet, text: str, width: int) -> None:
    sheet.cell(row=1, column=1, value=neutralise(text)).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))


def _cover(sheet: Worksheet, report: DailyReport, entries: Sequence[HistoryEntry], tz: ZoneInfo) -> None:
    sheet.title = "概况"
    _title(sheet, f"{TITLE}（{report.day.isoformat()}）", 2)
    sheet.cell(row=2, column=1, value=f"状态：{REPORT_STATUS_LABELS[report.status.value]}")
    _header(sheet, 3, ("项目", "数值"))
    row = 4
    for line in headlines(report.figures):
        _put(sheet, row, 1, line.label)
        _put(sheet, row, 2, line.value, line.kind)
        row += 1
    row += 1
    sheet.cell(row=row, column=1, value="情况说明").font = Font(bold=True)
    _put(sheet, row + 1, 1, report.summary or "（无）")
    sheet.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=2)
    sheet.cell(row=row + 1, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[row + 1].height = 90
    signed = [e for e in entries if e.round == report.round and e.action == "approve"]
    row += 3
    for entry in signed:
        when = entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        sheet.cell(row=row, column=1, value=neutralise(f"{entry.step_title}：{entry.who}"))
        sheet.cell(row=row, column=2, value=when)
        row += 1
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 40


def _table_sheet(sheet: Worksheet, table: Table, report: DailyReport) -> None:
    columns = table.columns
    _title(sheet, f"{table.title}（{report.day.isoformat()}）", len(columns))
    _header(sheet, 2, [c.header for c in columns])
    rows = table.rows(report.figures)
    for r, row in enumerate(rows, start=3):
        for c, column in enumerate(columns, start=1):
            _put(sheet, r, c, column.value(row), column.kind)
    total = table.total(report.figures)
    if total is not None:
        r = len(rows) + 3
        for c, column in enumerate(columns, start=1):
            _put(sheet, r, c, "合计" if c == 1 else column.value(total), "text" if c == 1 else column.kind)
            sheet.cell(row=r, column=c).font = Font(bold=True)
            sheet.cell(row=r, column=c).fill = _TOTAL_FILL
    if not rows:
        sheet.cell(row=3, column=1, value=table.empty)
    for c, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = column.width
    sheet.freeze_panes = "B3"
    sheet.print_options.gridLines = True
    sheet.page_setup.orientation = "landscape"


def _history_sheet(sheet: Worksheet, entries: Sequence[HistoryEntry], tz: ZoneInfo) -> None:
    headers = ("轮次", "环节", "操作", "操作人", "时间", "意见")
    _title(sheet, "审批记录", len(headers))
    _header(sheet, 2, headers)
    for r, entry in enumerate(entries, start=3):
        values: tuple[Cell, ...] = (
            entry.round,
            entry.step_title,
            DECISION_LABELS.get(entry.action, entry.action),
            entry.who,
            entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            entry.comment,
        )
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value, "int" if c == 1 else "text")
    for c, width in enumerate((8, 14, 10, 14, 18, 50), start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = "A3"
