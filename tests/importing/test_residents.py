import datetime as dt
import re
import time

import pytest

from bot.importing.reader import read_table
from bot.importing.residents import ResidentRow, ValidationResult, validate_resident_rows
from tests.importing.files import (
    HEADERS,
    STATIONS,
    TODAY,
    TOWNSHIPS,
    csv_bytes,
    excel_like_xlsx,
    make_id,
    resident,
    xlsx_bytes,
)


def validate(rows: list[list[str]], headers: list[str] = HEADERS, **kwargs: object) -> ValidationResult:
    options: dict[str, object] = {"known_stations": STATIONS, "known_townships": TOWNSHIPS, "today": TODAY}
    options.update(kwargs)
    table = read_table(csv_bytes([headers, *rows]), "名单.csv")
    return validate_resident_rows(table, **options)  # type: ignore[arg-type]


def messages(result: ValidationResult) -> list[str]:
    return [str(e) for e in result.errors]


def test_good_rows_are_normalised() -> None:
    result = validate([resident(手机号="+86 139-1234-5678", 外出时间="2020年1月20日", 所属派出所=" 兰江 ")])
    assert result.ok and result.total_rows == 1
    assert result.rows == [
        ResidentRow(
            name="张三",
            id_number=make_id(),
            phone="13912345678",
            household_address="浙江省兰溪市兰江街道 1 号",
            current_address="浙江省杭州市西湖区",
            away_since=dt.date(2020, 1, 20),
            away_reason="务工",
            expected_return=dt.date(2020, 3, 1),
            station="兰江派出所",
            township="兰江街道",
            note="",
            row_number=2,
        )
    ]


def test_header_variants_and_optional_columns() -> None:
    headers = ["*姓名", "公民身份号码", "联系电话", "派出所", "乡镇（街道）"]
    result = validate([["李四", make_id(seq=7), "0579-88888888", "云山", "云山"]], headers=headers)
    assert result.ok, messages(result)
    (row,) = result.rows
    assert (row.station, row.township, row.phone, row.away_since) == (
        "云山派出所",
        "云山街道",
        "0579-88888888",
        None,
    )


def test_missing_required_columns_is_a_file_error() -> None:
    result = validate([["张三", "兰江"]], headers=["姓名", "所属派出所", "户籍地址"])
    assert result.file_errors == ["缺少必填列：身份证号、手机号、乡镇街道"]
    assert not result.ok and result.rows == [] and result.total_rows == 0


def test_row_errors_are_all_collected_in_chinese() -> None:
    bad_id = make_id()[:17] + ("1" if make_id()[17] != "1" else "2")
    result = validate([resident(), resident(身份证号=bad_id, 手机号="12345", 姓名="", 外出时间="昨天")])
    assert [r.row_number for r in result.rows] == [2]
    assert messages(result) == [
        "第 3 行「姓名」：不能为空",
        "第 3 行「身份证号」：校验位不正确",
        "第 3 行「手机号」：手机号应为 11 位（现为 5 位）",
        "第 3 行「外出时间」：无法识别的日期，请写成 2020-02-15 或 2020年2月15日",
    ]
    (bad,) = result.bad_rows
    assert bad.row_number == 3 and bad.values["手机号"] == "12345"
    assert bad.explanation.startswith("「姓名」：不能为空；「身份证号」：校验位不正确")


def test_unknown_station_lists_known_ones() -> None:
    result = validate([resident(所属派出所="兰江所")])
    (error,) = result.errors
    assert error.column_zh == "所属派出所"
    assert "兰江派出所" in error.message_zh and "云山派出所" in error.message_zh


def test_unknown_township_list_is_truncated_with_suggestion() -> None:
    known = [f"第{n}街道" for n in range(1, 31)]
    result = validate([resident(乡镇街道="第29接道")], known_townships=known)
    (error,) = result.errors
    assert "您是不是要填：第29街道" in error.message_zh
    assert "等共 30 个" in error.message_zh
    assert "第8街道" in error.message_zh and "第9街道 " not in error.message_zh


def test_ambiguous_short_township_name() -> None:
    result = validate([resident(乡镇街道="兰江")], known_townships=["兰江街道", "兰江镇"])
    assert messages(result) == ["第 2 行「乡镇街道」：对应多个乡镇街道：兰江街道、兰江镇，请写全称"]


def test_no_jurisdictions_registered_yet() -> None:
    result = validate([resident()], known_stations=[])
    assert "请先导入辖区" in result.errors[0].message_zh


def test_duplicates_in_file_reject_every_copy() -> None:
    same = make_id(seq=5)
    result = validate(
        [resident(身份证号=same), resident(姓名="乙乙", 身份证号=make_id(seq=6)), resident(身份证号=same)]
    )
    assert [r.name for r in result.rows] == ["乙乙"]
    assert [str(e) for e in result.duplicates_in_file] == [
        "第 2 行「身份证号」：与第 4 行的身份证号重复，这些行都未导入，请核实后只保留一行",
        "第 4 行「身份证号」：与第 2 行的身份证号重复，这些行都未导入，请核实后只保留一行",
    ]
    assert set(result.duplicates_in_file) <= set(result.errors)
    # Both copies are in the error report with their original values.
    assert [(b.row_number, b.values["身份证号"]) for b in result.bad_rows] == [(2, same), (4, same)]


def test_duplicate_of_a_legacy_15_digit_number() -> None:
    result = validate([resident(身份证号="110105491231002"), resident(身份证号="11010519491231002x")])
    assert len(result.duplicates_in_file) == 2 and result.rows == []


def test_dates_are_checked_against_each_other_and_today() -> None:
    result = validate(
        [
            resident(外出时间="2020-03-01", 预计返回时间=""),
            resident(身份证号=make_id(seq=2), 外出时间="2020-02-01", 预计返回时间="2020-01-01"),
        ]
    )
    assert messages(result) == [
        "第 2 行「外出时间」：外出时间晚于今天",
        "第 3 行「预计返回时间」：预计返回时间早于外出时间",
    ]


def test_overlong_address() -> None:
    result = validate([resident(现居住地="杭" * 201)])
    assert messages(result) == ["第 2 行「现居住地」：不能超过 200 个字（现为 201 个字）"]


def test_formula_cells_become_warnings() -> None:
    result = validate([resident(备注="=1+1")])
    assert result.ok and result.rows[0].note == "=1+1"
    assert [str(w) for w in result.warnings] == [
        "第 2 行「备注」：单元格是公式或以「=」开头，未计算，按原文读取"
    ]


def test_id_rounded_by_excel() -> None:
    result = validate([resident(身份证号="3.30781199001011E+17")])
    assert "科学计数法" in result.errors[0].message_zh


FULL_NUMBER = re.compile(r"\d{11,}")


def test_errors_never_show_full_id_or_phone() -> None:
    ident, phone = make_id(seq=9), "13912345678"
    bad_check = ident[:17] + ("0" if ident[17] != "0" else "1")
    result = validate(
        [
            resident(身份证号=bad_check, 手机号="12912345678"),
            resident(身份证号=ident, 所属派出所=ident, 备注=phone),  # numbers in the wrong column
            resident(身份证号=ident, 乡镇街道=phone),
        ]
    )
    shown = [str(e) + e.value_shown_masked for e in result.errors]
    assert shown and not [s for s in shown if FULL_NUMBER.search(s)]
    by_column = {e.column_zh: e.value_shown_masked for e in result.errors if e.row_number == 2}
    assert by_column["身份证号"] == bad_check[:6] + "********" + bad_check[-4:]
    assert by_column["手机号"] == "129****5678"
    duplicate = result.duplicates_in_file[0]
    assert duplicate.value_shown_masked == ident[:6] + "********" + ident[-4:]


def test_20000_row_xlsx_reads_and_validates_quickly() -> None:
    rows = [resident(身份证号=make_id(birth=f"19{50 + i // 1000}0101", seq=i % 1000)) for i in range(20_000)]
    data = excel_like_xlsx([HEADERS, *rows])
    # CPU time, not wall time: other test runs share the machine.
    started = time.process_time()
    table = read_table(data, "名单.xlsx")
    result = validate_resident_rows(table, known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY)
    elapsed = time.process_time() - started
    assert result.total_rows == len(result.rows) == 20_000
    assert elapsed < 5.0, f"{elapsed:.2f}s"


def test_xlsx_end_to_end_with_bad_rows() -> None:
    data = xlsx_bytes({"名单": [HEADERS, resident(), resident(身份证号="123")]})
    result = validate_resident_rows(
        read_table(data, "a.xlsx"), known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY
    )
    assert len(result.rows) == 1
    assert messages(result) == ["第 3 行「身份证号」：应为 18 位（现为 3 位）"]


@pytest.mark.parametrize("station", ["兰江派出所", "兰江", " 兰 江 派出所 ", "兰江派出所 "])
def test_station_matching_tolerates_suffix_and_spaces(station: str) -> None:
    assert validate([resident(所属派出所=station)]).rows[0].station == "兰江派出所"


def test_second_phone_column_is_reported_not_used() -> None:
    result = validate([[*resident(), "13812345678"]], headers=[*HEADERS, "联系电话"])
    assert result.rows[0].phone == "13912345678"
    assert result.file_warnings == ["有多列对应「手机号」，已使用第一列；「联系电话」列按原样保留，不导入"]
