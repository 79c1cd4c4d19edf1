import csv
import io

from openpyxl import load_workbook

from bot.importing.reader import read_table
from bot.importing.report import (
    build_error_report_csv,
    build_error_report_xlsx,
    build_template_xlsx,
    neutralise,
)
from bot.importing.residents import validate_resident_rows
from bot.importing.results import BadRow
from tests.importing.files import HEADERS, STATIONS, TODAY, TOWNSHIPS, csv_bytes, make_id, resident


def test_template_reads_back_as_one_valid_row() -> None:
    data = build_template_xlsx()
    table = read_table(data, "模板.xlsx")
    assert table.sheet_name == "居民信息" and table.headers == tuple(HEADERS)
    result = validate_resident_rows(table, known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY)
    assert result.ok and len(result.rows) == 1


def test_template_has_notes_and_text_columns() -> None:
    book = load_workbook(io.BytesIO(build_template_xlsx()))
    assert book.sheetnames == ["居民信息", "填写说明"]
    sheet = book["居民信息"]
    assert sheet["A1"].value == "*姓名" and sheet["D1"].value == "户籍地址"
    assert sheet["B2"].number_format == "@" and sheet.column_dimensions["B"].number_format == "@"
    notes = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "身份证号" in notes and any("示例" in str(n) for n in notes)


def failing_file() -> bytes:
    bad = resident(身份证号="123", 备注='=HYPERLINK("http://evil")', 外出原因="+1", 户籍地址="@SUM(A1)")
    return csv_bytes([[*HEADERS, "序号"], [*resident(), "1"], [*bad, "-2"]])


def report_inputs() -> tuple[tuple[str, ...], list[BadRow]]:
    table = read_table(failing_file(), "a.csv")
    result = validate_resident_rows(table, known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY)
    return result.headers, result.bad_rows


def test_error_report_xlsx_keeps_row_and_neutralises_formulas() -> None:
    headers, bad_rows = report_inputs()
    book = load_workbook(io.BytesIO(build_error_report_xlsx(headers, bad_rows)))
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == (*HEADERS, "序号", "原行号", "错误说明")
    (row,) = rows[1:]
    values = dict(zip(rows[0], row, strict=True))
    assert values["身份证号"] == "123" and values["姓名"] == "张三"
    assert values["备注"] == '\'=HYPERLINK("http://evil")'
    assert values["外出原因"] == "'+1" and values["户籍地址"] == "'@SUM(A1)" and values["序号"] == "'-2"
    assert values["原行号"] == "3"
    assert values["错误说明"] == "「身份证号」：应为 18 位（现为 3 位）"
    assert all(cell.data_type != "f" for cell in book.active[2])  # type: ignore[index]


def test_error_report_csv_has_bom_and_reimports() -> None:
    headers, bad_rows = report_inputs()
    data = build_error_report_csv(headers, bad_rows)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][HEADERS.index("备注")] == '\'=HYPERLINK("http://evil")'
    # The clerk fixes the ID and imports the report again: extra columns are ignored.
    rows[1][HEADERS.index("身份证号")] = make_id(seq=77)
    table = read_table(csv_bytes(rows), "fixed.csv")
    result = validate_resident_rows(table, known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY)
    assert result.ok and result.rows[0].id_number == make_id(seq=77)


def test_neutralise() -> None:
    assert [neutralise(v) for v in ["=1", "+1", "-1", "@a", "\tx", "张三", "", "a=1"]] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "张三",
        "",
        "a=1",
    ]
    assert neutralise("a\x01b") == "ab"  # characters XML cannot hold
