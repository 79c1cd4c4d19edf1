"""Reading .xlsx files safely: archive limits first, then openpyxl in read-only mode.

The workbook is opened with ``data_only=False`` on purpose: openpyxl then hands back a
formula's text ("=A1&B1") instead of the result Excel cached when it last saved, so a
formula is never taken for data silently; the reader flags it and validation sees text.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator
from typing import cast

import openpyxl
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from bot.importing.errors import ImportFileError
from bot.importing.headers import HEADER_SCAN_ROWS, HeaderRow, locate_header
from bot.importing.source import MAX_FILE_BYTES, NO_HEADER_HINT, RawRow, Source

MAX_MEMBERS = 10_000
MAX_RATIO = 100
# Small parts of a workbook legitimately compress well; the ratio only matters for big ones.
RATIO_CHECKED_FROM = 5 * 1024 * 1024
MAX_COLUMNS = 200

CORRUPT = "Excel 文件已损坏或不是有效的 .xlsx 文件，请用 Excel 或 WPS 打开后重新另存为 .xlsx"
BOMB = "文件解压后过大或压缩比异常（疑似压缩炸弹），已拒绝读取"


def check_archive(data: bytes) -> None:
    """Reject corrupt archives and zip bombs from the central directory, before any decompression.

    zipfile never inflates a member past its declared size, so checking the declared
    sizes bounds what openpyxl can be made to read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ImportFileError(CORRUPT) from exc
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_FILE_BYTES:
        raise ImportFileError(BOMB)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_FROM and ratio > MAX_RATIO:
            raise ImportFileError(BOMB)
    if not any(m.filename == "xl/workbook.xml" for m in members):
        raise ImportFileError(CORRUPT)


def _rows_of(sheet: ReadOnlyWorksheet) -> Worksheet:
    # The read-only sheet borrows Worksheet.iter_rows; the type stubs only know it on Worksheet.
    return cast(Worksheet, sheet)


def _header_of(sheet: ReadOnlyWorksheet) -> HeaderRow | None:
    sheet.reset_dimensions()  # a wrong <dimension> element would otherwise cut rows off
    rows = _rows_of(sheet).iter_rows(
        min_row=1, max_row=HEADER_SCAN_ROWS, max_col=MAX_COLUMNS, values_only=True
    )
    return locate_header(enumerate(rows, start=1))


def _data_rows(sheet: ReadOnlyWorksheet, header_row: int, width: int) -> Iterator[RawRow]:
    try:
        rows = _rows_of(sheet).iter_rows(min_row=header_row + 1, max_col=width, values_only=True)
        yield from enumerate(rows, start=header_row + 1)
    except ImportFileError:
        raise
    except Exception as exc:  # any parser failure inside a damaged sheet
        raise ImportFileError(CORRUPT) from exc


def open_xlsx(data: bytes) -> Source:
    """The first worksheet with a recognisable header row (within its first ten rows)."""
    check_archive(data)
    examined: list[str] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (data validation, no default style...) that
            # WPS files often carry; they do not matter for reading values.
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        for sheet in book.worksheets:
            if not isinstance(sheet, ReadOnlyWorksheet):
                continue
            examined.append(sheet.title)
            header = _header_of(sheet)
            if header is not None:
                return _source(sheet, header, tuple(examined))
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many types (KeyError, ParseError...) on damaged files
        raise ImportFileError(CORRUPT) from exc
    looked_at = "、".join(f"「{name}」" for name in examined) or "（无）"
    raise ImportFileError(
        f"没有找到表头。已查看的工作表：{looked_at}（各前 {HEADER_SCAN_ROWS} 行）。{NO_HEADER_HINT}"
    )


def _source(sheet: ReadOnlyWorksheet, header: HeaderRow, examined: tuple[str, ...]) -> Source:
    cells = header.cells
    width = max((i + 1 for i, c in enumerate(cells) if c is not None and str(c).strip()), default=1)
    return Source(
        kind="xlsx",
        sheet_name=sheet.title,
        sheets_examined=examined,
        header_row=header.row_number,
        header_cells=tuple(cells[:width]),
        data_rows=lambda: _data_rows(sheet, header.row_number, width),
    )
