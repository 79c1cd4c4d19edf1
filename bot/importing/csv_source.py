"""Reading .csv files: encoding (UTF-8 with or without BOM, UTF-16, else GB18030) and delimiter."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import islice

from bot.importing.errors import ImportFileError
from bot.importing.headers import HEADER_SCAN_ROWS, HeaderRow, locate_header
from bot.importing.source import NO_HEADER_HINT, RawRow, Source

DELIMITERS = (",", "\t", ";")
MALFORMED = "CSV 文件格式有误（引号不配对或单元格过长），请用 Excel 打开后重新另存"


def decode(data: bytes) -> str:
    """Text of the file. GB18030 is a superset of GBK and GB2312, which older Excel writes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别 CSV 文件的编码，请另存为「CSV UTF-8」或 GBK 编码后重试")


def _records(text: str, delimiter: str) -> Iterator[RawRow]:
    # A record may span lines (quoted newlines); Excel shows it as one row, so count records.
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    except csv.Error as exc:
        raise ImportFileError(MALFORMED) from exc


def _best_header(text: str) -> tuple[str, HeaderRow] | None:
    """The delimiter under which the header names the most known columns."""
    best: tuple[str, HeaderRow] | None = None
    for delimiter in DELIMITERS:
        header = locate_header(islice(_records(text, delimiter), HEADER_SCAN_ROWS))
        if header is not None and (best is None or header.recognised > best[1].recognised):
            best = (delimiter, header)
    return best


def _data_rows(text: str, delimiter: str, header_row: int) -> Iterator[RawRow]:
    return islice(_records(text, delimiter), header_row, None)


def open_csv(data: bytes) -> Source:
    text = decode(data)
    found = _best_header(text)
    if found is None:
        raise ImportFileError(f"没有找到表头（已查看前 {HEADER_SCAN_ROWS} 行）。{NO_HEADER_HINT}")
    delimiter, header = found
    return Source(
        kind="csv",
        sheet_name=None,
        sheets_examined=(),
        header_row=header.row_number,
        header_cells=header.cells,
        data_rows=lambda: _data_rows(text, delimiter, header.row_number),
    )
