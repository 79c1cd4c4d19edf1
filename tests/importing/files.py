"""Builders for small registry files, generated in the tests instead of committed binaries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from openpyxl import Workbook

HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "户籍地址",
    "现居住地",
    "外出时间",
    "外出原因",
    "预计返回时间",
    "所属派出所",
    "乡镇街道",
    "备注",
]
STATIONS = ["兰江派出所", "云山派出所", "赤溪派出所"]
TOWNSHIPS = ["兰江街道", "云山街道", "赤溪街道", "女埠街道"]
TODAY = dt.date(2020, 2, 20)


def with_check_digit(first17: str) -> str:
    """GB 11643 check character, written out independently of the code under test."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def make_id(birth: str = "19900101", seq: int = 123, region: str = "330781") -> str:
    return with_check_digit(f"{region}{birth}{seq:03d}")


def resident(**overrides: str) -> list[str]:
    """One valid resident row; keyword arguments replace cells by canonical header."""
    row = dict(
        zip(
            HEADERS,
            [
                "张三",
                make_id(),
                "13912345678",
                "浙江省兰溪市兰江街道 1 号",
                "浙江省杭州市西湖区",
                "2020-01-20",
                "务工",
                "2020-03-01",
                "兰江派出所",
                "兰江街道",
                "",
            ],
            strict=True,
        )
    )
    row.update(overrides)
    return list(row.values())


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def csv_bytes(rows: Sequence[Sequence[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    output = io.StringIO()
    csv.writer(output, delimiter=delimiter).writerows(rows)
    return output.getvalue().encode(encoding)


# --- a workbook written the way Excel and WPS write it -------------------------------------------
# openpyxl stores text as inline strings; Excel and WPS use a shared-strings table and may carry
# formulas with cached values or a stale <dimension>. Reading speed and behaviour differ, so
# tests that care build the parts by hand.

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass(frozen=True)
class Formula:
    text: str  # without the leading "="
    cached: str


def _column(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: object, strings: dict[str, int]) -> str:
    if isinstance(value, Formula):
        return f'<c r="{ref}" t="str"><f>{escape(value.text)}</f><v>{escape(value.cached)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="s"><v>{strings.setdefault(str(value), len(strings))}</v></c>'


def excel_like_xlsx(
    rows: Sequence[Sequence[object]], *, dimension: str | None = None, styles: bool = True
) -> bytes:
    """One sheet named 名单 with shared strings, as Excel saves it (``styles=False``: as some tools do)."""
    strings: dict[str, int] = {}
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(
            _cell(f"{_column(c)}{r}", v, strings) for c, v in enumerate(row, start=1) if v not in ("", None)
        )
        body.append(f'<row r="{r}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet_data = "<sheetData>" + "".join(body) + "</sheetData>"
    shared = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
            '+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
            '<sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<styleSheet {_NS}><fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="1"><xf xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": f"<worksheet {_NS}>{dim}{sheet_data}</worksheet>",
        "xl/sharedStrings.xml": f'<sst {_NS} uniqueCount="{len(strings)}">{shared}</sst>',
    }
    if not styles:
        del parts["xl/styles.xml"]
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
    return output.getvalue()
