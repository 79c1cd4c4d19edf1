"""Pure helpers: masking identifiers in free text, spreadsheet-safe cells, labels."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from bot.models import CheckinStatus
from bot.services import xlsx_export
from bot.services.labels import LABELS, label
from bot.services.redaction import mask_identifiers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证 231222198005170014 已核对", "身份证 231222********0014 已核对"),
        ("老号码 231222800517001", "老号码 231222*****7001"),
        ("末位X：23122219800517001X", "末位X：231222********001X"),
        ("电话13912345678，备用0455-5623110", "电话139****5678，备用0455-***3110"),
        ("编号 T20200215-0042 与 2020-02-15", "编号 T20200215-0042 与 2020-02-15"),
        ("体温 37.5 度，共 3 人", "体温 37.5 度，共 3 人"),
    ],
)
def test_mask_identifiers(text: str, expected: str) -> None:
    assert mask_identifiers(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 139", "'+86 139"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("张三", "张三"),
        ("a\x00b", "ab"),  # characters XML forbids are dropped
        (5, 5),
        (37.5, 37.5),
        (date(2020, 2, 15), date(2020, 2, 15)),
        (None, None),
    ],
)
def test_safe_cells(value: object, expected: object) -> None:
    assert xlsx_export.safe(value) == expected


def test_build_writes_header_rows_and_notes() -> None:
    content = xlsx_export.build(
        "名单", ["姓名", "=危险表头"], [["张三", "=cmd"], ["李四", 3]], [("行数", "2")]
    )
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet, about = book.worksheets
    assert sheet.title == "名单" and about.title == "说明"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "'=危险表头"],
        ["张三", "'=cmd"],
        ["李四", 3],
    ]
    assert sheet["B2"].data_type == "s"  # text, never a formula
    assert [c.value for c in about[1]] == ["行数", "2"]


def test_every_status_has_a_label() -> None:
    assert all(label("checkin_status", s) != s.value for s in CheckinStatus)
    assert label("checkin_status", "made_up") == "made_up" and label("health", None) == ""
    assert all(LABELS[v] for v in LABELS)
