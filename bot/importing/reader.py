"""``read_table``: one entry point for .xlsx and .csv registry files, rows read lazily."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence

from bot.importing.csv_source import open_csv
from bot.importing.errors import ImportFileError
from bot.importing.headers import layout_headers
from bot.importing.masking import mask_value
from bot.importing.results import RowError
from bot.importing.source import MAX_FILE_BYTES, Source
from bot.importing.xlsx_source import CORRUPT, open_xlsx

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .et
_XLSX_EXTENSIONS = (".xlsx", ".xlsm")
_CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
# Beyond 15 significant digits Excel has already rounded the number; show it as Excel does.
_EXACT_FLOAT_LIMIT = 1e15

FORMULA_NOTICE = "单元格是公式或以「=」开头，未计算，按原文读取"


def cell_text(value: object) -> str:
    """A cell value as the text the clerk typed or sees in Excel."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    formula = getattr(value, "text", None)  # openpyxl ArrayFormula keeps its "=..." text here
    if isinstance(formula, str):
        return formula
    return str(value)


class Table:
    """A registry file's rows below its header, as ``(row_number, {column: text})``.

    Keys are canonical column names for recognised headers and the original header text
    for others, so the rows can be written back as they were. Empty rows are skipped.
    Iterating again reads the file again; ``notices`` describes the latest pass.
    """

    def __init__(self, source: Source, *, max_rows: int) -> None:
        layout = layout_headers(source.header_cells)
        self.kind = source.kind
        self.sheet_name = source.sheet_name
        self.sheets_examined = source.sheets_examined
        self.header_row = source.header_row
        self.headers = layout.headers
        self.source_headers = layout.source_headers
        self.warnings: tuple[str, ...] = layout.warnings
        self.notices: list[RowError] = []  # cells worth a warning, not errors by themselves
        self._keys = layout.keys
        self._source = source
        self._max_rows = max_rows

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        self.notices = []
        count = 0
        for row_number, cells in self._source.data_rows():
            values = self._values(row_number, cells)
            if values is None:
                continue
            count += 1
            if count > self._max_rows:
                raise ImportFileError(f"数据超过 {self._max_rows} 行，请拆分成多个文件分别导入")
            yield row_number, values

    def _values(self, row_number: int, cells: Sequence[object]) -> dict[str, str] | None:
        values = dict.fromkeys(self.headers, "")
        empty = True
        for key, cell in zip(self._keys, cells, strict=False):
            if key is None:
                continue
            text = cell_text(cell)
            if text.strip():
                empty = False
                if text.startswith("=") and len(text) > 1:
                    self.notices.append(RowError(row_number, key, mask_value(key, text), FORMULA_NOTICE))
            values[key] = text
        return None if empty else values


def _kind(data: bytes, filename: str) -> str:
    extension = os.path.splitext(filename.lower())[1]
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC) or extension == ".xls":
        raise ImportFileError("不支持旧版 .xls 格式，请在 Excel 或 WPS 中「另存为」.xlsx 后再导入")
    if extension in _XLSX_EXTENSIONS:
        raise ImportFileError(CORRUPT)
    if extension in _CSV_EXTENSIONS:
        return "csv"
    raise ImportFileError("只支持 .xlsx 或 .csv 文件")


def read_table(data: bytes, filename: str, *, max_rows: int = 200_000) -> Table:
    """Open a registry file; raises ImportFileError (Chinese message) when it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分后再导入")
    if not data.strip():
        raise ImportFileError("文件是空的")
    source = open_xlsx(data) if _kind(data, filename) == "xlsx" else open_csv(data)
    return Table(source, max_rows=max_rows)
