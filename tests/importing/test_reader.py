import codecs
import datetime as dt
import io
import struct
import zipfile

import pytest
from openpyxl import Workbook

from bot.importing.errors import ImportFileError
from bot.importing.reader import FORMULA_NOTICE, read_table
from bot.importing.xlsx_source import BOMB, CORRUPT
from tests.importing.files import HEADERS, Formula, csv_bytes, excel_like_xlsx, make_id, resident, xlsx_bytes


def rows_of(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    return list(read_table(data, filename))


# --- CSV ---


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(encoding: str) -> None:
    data = csv_bytes([HEADERS, resident(姓名="李四", 备注="返乡")], encoding=encoding)
    ((number, values),) = rows_of(data, "名单.csv")
    assert number == 2
    assert values["姓名"] == "李四"
    assert values["备注"] == "返乡"
    assert list(values) == HEADERS


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_delimiters(delimiter: str) -> None:
    data = csv_bytes([HEADERS, resident(现居住地="杭州市,西湖区")], delimiter=delimiter)
    ((_, values),) = rows_of(data, "名单.csv")
    assert values["现居住地"] == "杭州市,西湖区"
    assert values["身份证号"] == make_id()


def test_csv_undecodable_bytes() -> None:
    data = "姓名,身份证号\n".encode() + b"\x81\x30\xff\xff\n"
    with pytest.raises(ImportFileError, match="编码"):
        read_table(data, "名单.csv")


def test_row_numbers_as_seen_and_empty_rows_skipped() -> None:
    data = csv_bytes(
        [
            ["兰溪市外出人员登记表"],
            [],
            HEADERS,
            resident(姓名="甲甲"),
            [""] * 11,
            [],
            [" "],
            resident(姓名="乙乙"),
        ]
    )
    table = read_table(data, "a.csv")
    assert table.header_row == 3
    assert [(n, v["姓名"]) for n, v in table] == [(4, "甲甲"), (8, "乙乙")]


def test_quoted_newline_counts_as_one_row() -> None:
    data = csv_bytes([HEADERS, resident(备注="第一行\n第二行"), resident(姓名="乙乙")])
    assert [(n, v["姓名"]) for n, v in read_table(data, "a.csv")] == [(2, "张三"), (3, "乙乙")]


def test_short_rows_and_unknown_columns() -> None:
    data = csv_bytes([["序号", "姓名", "身份证号", "电话"], ["1", "张三"]])
    table = read_table(data, "a.csv")
    assert table.headers == ("序号", "姓名", "身份证号", "手机号")
    assert list(table) == [(2, {"序号": "1", "姓名": "张三", "身份证号": "", "手机号": ""})]


def test_max_rows() -> None:
    data = csv_bytes([HEADERS] + [resident(姓名=f"张{'三' * (i + 1)}") for i in range(3)])
    with pytest.raises(ImportFileError, match="超过 2 行"):
        list(read_table(data, "a.csv", max_rows=2))


def test_csv_without_header() -> None:
    with pytest.raises(ImportFileError, match="没有找到表头"):
        read_table(csv_bytes([["a", "b"], ["1", "2"]]), "a.csv")


def test_csv_formula_text_is_data_and_flagged() -> None:
    table = read_table(csv_bytes([HEADERS, resident(备注='=HYPERLINK("http://x")')]), "a.csv")
    ((_, values),) = table
    assert values["备注"] == '=HYPERLINK("http://x")'
    assert [(n.row_number, n.column_zh, n.message_zh) for n in table.notices] == [(2, "备注", FORMULA_NOTICE)]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls", "不支持旧版 .xls"),
        (b"not a zip at all", "a.xlsx", CORRUPT),
        (b"hello", "a.pdf", "只支持 .xlsx 或 .csv"),
    ],
)
def test_unsupported_files(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(data, filename)


# --- XLSX ---


def test_xlsx_good_file_with_typed_cells() -> None:
    row: list[object] = list(resident())
    row[5] = dt.datetime(2020, 1, 20)  # a date cell
    row[7] = 43891  # an Excel serial typed into a General cell
    row[2] = 13912345678  # a phone typed as a number
    data = xlsx_bytes({"Sheet1": [HEADERS, row]})
    table = read_table(data, "名单.xlsx")
    ((number, values),) = table
    assert (table.kind, table.sheet_name, number) == ("xlsx", "Sheet1", 2)
    assert values["外出时间"] == "2020-01-20"
    assert values["预计返回时间"] == "43891"
    assert values["手机号"] == "13912345678"
    assert values["身份证号"] == make_id()


def test_xlsx_id_stored_as_float_shows_as_excel_does() -> None:
    excel_kept = 3.30781199001011e17  # all Excel keeps of an 18-digit number typed into a number cell
    data = xlsx_bytes({"Sheet1": [HEADERS, [*resident()[:1], excel_kept]]})
    ((_, values),) = rows_of(data, "a.xlsx")
    assert values["身份证号"] == "3.30781199001011e+17"


def test_xlsx_uses_first_sheet_with_headers() -> None:
    data = xlsx_bytes({"说明": [["请按模板填写"], ["姓名必填"]], "名单": [["标题"], HEADERS, resident()]})
    table = read_table(data, "a.xlsx")
    assert (table.sheet_name, table.sheets_examined, table.header_row) == ("名单", ("说明", "名单"), 2)
    assert [n for n, _ in table] == [3]


def test_xlsx_without_headers_names_the_sheets_looked_at() -> None:
    data = xlsx_bytes({"封面": [["兰溪"]], "Sheet2": [["a", "b"]]})
    with pytest.raises(ImportFileError) as info:
        read_table(data, "a.xlsx")
    assert "「封面」、「Sheet2」" in info.value.message_zh


def test_xlsx_formulas_are_not_evaluated() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    sheet.append(resident())
    sheet["K2"] = "=1+1"
    sheet["A2"] = '=CONCATENATE("张","三")'
    output = io.BytesIO()
    book.save(output)
    table = read_table(output.getvalue(), "a.xlsx")
    ((_, values),) = table
    assert values["备注"] == "=1+1"
    assert values["姓名"] == '=CONCATENATE("张","三")'
    assert sorted(n.column_zh for n in table.notices) == ["备注", "姓名"]


def test_xlsx_empty_rows_skipped_and_iterable_twice() -> None:
    data = xlsx_bytes({"Sheet1": [HEADERS, resident(), [None] * 11, [], resident(姓名="乙乙")]})
    table = read_table(data, "a.xlsx")
    assert [n for n, _ in table] == [2, 5]
    assert [n for n, _ in table] == [2, 5]


def zip_with(members: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return output.getvalue()


def test_zip_bomb_by_ratio() -> None:
    data = zip_with({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (6 * 1024 * 1024)})
    assert len(data) < 20_000
    with pytest.raises(ImportFileError, match="压缩炸弹") as info:
        read_table(data, "a.xlsx")
    assert info.value.message_zh == BOMB


def test_zip_bomb_by_declared_size() -> None:
    data = bytearray(zip_with({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"<a/>"}))
    # Rewrite the uncompressed size recorded in each central directory entry.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        struct.pack_into("<I", data, position + 24, 0xFFFF0000)
        position = data.find(b"PK\x01\x02", position + 4)
    with pytest.raises(ImportFileError, match="压缩炸弹"):
        read_table(bytes(data), "a.xlsx")


@pytest.mark.parametrize(
    "data",
    [
        zip_with({"hello.txt": b"not excel"}),
        zip_with({"xl/workbook.xml": b"<broken", "[Content_Types].xml": b"<broken"}),
        xlsx_bytes({"Sheet1": [HEADERS]})[:-200],  # truncated download
    ],
)
def test_corrupt_xlsx(data: bytes) -> None:
    with pytest.raises(ImportFileError) as info:
        read_table(data, "a.xlsx")
    assert info.value.message_zh == CORRUPT


def test_zip_content_is_read_as_xlsx_whatever_the_name() -> None:
    data = xlsx_bytes({"Sheet1": [HEADERS, resident()]})
    assert read_table(data, "名单.csv").kind == "xlsx"


def test_utf16_bom_constant_is_what_excel_writes() -> None:
    # Excel's "Unicode text" export: UTF-16 LE with BOM, tab separated.
    data = codecs.BOM_UTF16_LE + "\t".join(HEADERS).encode("utf-16-le")
    assert read_table(data, "a.txt").headers == tuple(HEADERS)


def test_damage_found_while_reading_rows_is_an_import_error() -> None:
    good = xlsx_bytes({"Sheet1": [HEADERS] + [resident(姓名=f"张{'三' * (i % 5 + 1)}") for i in range(40)]})
    with zipfile.ZipFile(io.BytesIO(good)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet[: len(sheet) * 2 // 3]  # cut off mid-row
    table = read_table(zip_with(members), "a.xlsx")  # header rows are intact
    with pytest.raises(ImportFileError) as info:
        list(table)
    assert info.value.message_zh == CORRUPT


def test_excel_shared_strings_formulas_and_stale_dimension() -> None:
    row: list[object] = list(resident())
    row[0] = Formula('"张"&"三"', "张三")  # Excel saved its result too; we read the formula
    row[10] = "=不是公式"  # text that merely starts with =
    rows: list[list[object]] = [list(HEADERS), row, list(resident(姓名="乙乙")), list(resident(姓名="丙丙"))]
    table = read_table(excel_like_xlsx(rows, dimension="A1:B2"), "a.xlsx")
    values = [v for _, v in table]
    assert [v["姓名"] for v in values] == ['="张"&"三"', "乙乙", "丙丙"]
    assert values[0]["备注"] == "=不是公式" and values[2]["乡镇街道"] == "兰江街道"
    assert [(n.row_number, n.column_zh) for n in table.notices] == [(2, "姓名"), (2, "备注")]


def test_openpyxl_warnings_do_not_break_reading() -> None:
    # No styles part: openpyxl warns, which pytest turns into errors; the file is fine.
    table = read_table(excel_like_xlsx([HEADERS, resident()], styles=False), "a.xlsx")
    assert [n for n, _ in table] == [2]
