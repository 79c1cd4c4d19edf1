"""What a file format hands the reader: where the header is and how to walk the data rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

RawRow = tuple[int, Sequence[object]]
"""(row number as the user sees it, cell values in column order)."""

MAX_FILE_BYTES = 200 * 1024 * 1024
NO_HEADER_HINT = "表头需包含「姓名」「身份证号」等列名（辖区文件为「乡镇街道」「派出所」）"


@dataclass(frozen=True)
class Source:
    kind: Literal["xlsx", "csv"]
    sheet_name: str | None
    sheets_examined: tuple[str, ...]
    header_row: int
    header_cells: tuple[object, ...]
    data_rows: Callable[[], Iterator[RawRow]]
    """Fresh iterator over the rows below the header each time it is called."""
