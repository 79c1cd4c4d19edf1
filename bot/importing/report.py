"""Files handed back to the clerk: the blank template and the report of rejected rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.importing import headers as col
from bot.importing.results import BadRow
from bot.importing.validators import id_check_digit

ROW_NUMBER_HEADER = "原行号"
EXPLANATION_HEADER = "错误说明"
# Spreadsheet programs treat cells starting with these as formulas (CSV/formula injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_EXAMPLE_ID = "33078119900101123" + id_check_digit("33078119900101123")
_TEMPLATE_ROWS: tuple[tuple[str, str, str], ...] = (
    # (column, example, how to fill it in)
    (col.NAME, "张三", "2–30 个字；少数民族姓名用「·」分隔，如 阿卜杜·热合曼"),
    (col.ID_NUMBER, _EXAMPLE_ID, "18 位，末位可为 X；老的 15 位号码会自动转换。请保持单元格为「文本」格式"),
    (col.PHONE, "13912345678", "11 位手机号；也可填带区号的固定电话，如 0579-88888888"),
    (col.HOUSEHOLD_ADDRESS, "浙江省兰溪市兰江街道某某路 1 号", "选填，最多 200 字"),
    (col.CURRENT_ADDRESS, "浙江省杭州市西湖区某某小区", "选填，最多 200 字"),
    (col.AWAY_SINCE, "2020-01-20", "选填；写成 2020-01-20、2020/1/20、2020.1.20、2020年1月20日 或 20200120"),
    (col.AWAY_REASON, "务工", "选填，最多 100 字"),
    (col.EXPECTED_RETURN, "2020-02-20", "选填；格式同外出时间，不能早于外出时间"),
    (col.STATION, "兰江派出所", "必须是系统中已登记的派出所，「派出所」三字可省略"),
    (col.TOWNSHIP, "兰江街道", "必须是系统中已登记的乡镇（街道）"),
    (col.NOTE, "示例行，导入前请删除", "选填，最多 500 字"),
)
_GENERAL_NOTES = (
    "带 * 的列必须填写；表头所在行之上可以有标题行，但表头必须在前 10 行内。",
    "同一身份证号在一个文件中只能出现一次。",
    "第 2 行是示例，导入前请删除。",
    "公式不会被计算，请粘贴为数值后再导入。",
)


def neutralise(value: str) -> str:
    """Text safe to put in a spreadsheet cell: never a formula, no characters XML forbids."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _text_column(sheet: Worksheet, index: int) -> None:
    # Text format keeps 18-digit ID numbers and leading zeros from being turned into numbers.
    letter = get_column_letter(index)
    sheet.column_dimensions[letter].number_format = "@"
    sheet.column_dimensions[letter].width = 22


def build_template_xlsx() -> bytes:
    """A blank resident registry: header row, one example row, and a sheet of filling notes."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "居民信息"
    required = set(col.RESIDENT_REQUIRED)
    sheet.append([f"*{name}" if name in required else name for name, _, _ in _TEMPLATE_ROWS])
    sheet.append([example for _, example, _ in _TEMPLATE_ROWS])
    for index, (name, _, _) in enumerate(_TEMPLATE_ROWS, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True, color="C00000" if name in required else None)
        sheet.cell(row=2, column=index).font = Font(italic=True, color="808080")
        sheet.column_dimensions[get_column_letter(index)].width = 16
        if name in (col.ID_NUMBER, col.PHONE, col.AWAY_SINCE, col.EXPECTED_RETURN):
            _text_column(sheet, index)
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "填写说明", "示例"])
    for name, example, how in _TEMPLATE_ROWS:
        notes.append([name, "必填" if name in required else "选填", how, example])
    notes.append([])
    for line in _GENERAL_NOTES:
        notes.append([line])
    for letter, width in (("A", 14), ("B", 10), ("C", 70), ("D", 30)):
        notes.column_dimensions[letter].width = width
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _report_rows(table_headers: Sequence[str], bad_rows: Iterable[BadRow]) -> Iterator[list[str]]:
    yield [neutralise(h) for h in (*table_headers, ROW_NUMBER_HEADER, EXPLANATION_HEADER)]
    for bad in bad_rows:
        cells = [bad.values.get(h, "") for h in table_headers]
        yield [neutralise(c) for c in (*cells, str(bad.row_number), bad.explanation)]


def build_error_report_xlsx(table_headers: Sequence[str], bad_rows_with_errors: Iterable[BadRow]) -> bytes:
    """The rejected rows as they were, plus 原行号 and 错误说明, ready to fix and import again."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("未导入的行")
    rows = _report_rows(table_headers, bad_rows_with_errors)
    header: list[object] = []
    for text in next(rows):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def build_error_report_csv(table_headers: Sequence[str], bad_rows_with_errors: Iterable[BadRow]) -> bytes:
    """Same content as the xlsx report, UTF-8 with BOM so Excel shows the Chinese correctly."""
    output = io.StringIO()
    csv.writer(output).writerows(_report_rows(table_headers, bad_rows_with_errors))
    return output.getvalue().encode("utf-8-sig")
