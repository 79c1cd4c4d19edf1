import datetime as dt

import pytest

from bot.importing.errors import FieldError
from bot.importing.validators import (
    normalize_id_number,
    normalize_name,
    normalize_phone,
    normalize_text,
    parse_date,
)
from tests.importing.files import make_id, with_check_digit

TODAY = dt.date(2020, 2, 20)


def error_of(func: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(FieldError) as info:
        func(*args, **kwargs)  # type: ignore[operator]
    return info.value.message_zh


# --- ID numbers ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),  # the sample number of GB 11643
        ("11010519491231002x", "11010519491231002X"),
        (" 3307 8119 9001 0112 32 ", "330781199001011232"),
        ("３３０７８１１９９００１０１１２３２", "330781199001011232"),  # full-width digits
        ("'330781199001011232", "330781199001011232"),  # Excel's text marker
        ("110105491231002", "11010519491231002X"),  # legacy 15 digits
    ],
)
def test_valid_id_numbers_are_normalised(text: str, expected: str) -> None:
    assert normalize_id_number(text, today=TODAY) == expected


def test_check_digit_is_verified() -> None:
    good = make_id()
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    assert error_of(normalize_id_number, wrong, today=TODAY) == "校验位不正确"


@pytest.mark.parametrize(
    ("first17", "message"),
    [
        ("33078119900230123", "出生日期无效"),  # 30 February
        ("33078118991231123", "出生日期无效"),  # before 1900
        ("33078120250101123", "出生日期晚于今天"),
        ("93078119900101123", "地区码不正确"),
        ("00078119900101123", "地区码不正确"),
        ("39078119900101123", "地区码不正确"),  # first digit fine, no province 39
    ],
)
def test_id_birth_date_and_region(first17: str, message: str) -> None:
    assert error_of(normalize_id_number, with_check_digit(first17), today=TODAY) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("33078119900101123", "应为 18 位（现为 17 位）"),
        ("3307811990010112321", "应为 18 位（现为 19 位）"),
        ("3307811990X1011232", "只能包含数字，最后一位可以是 X"),
        ("身份证丢了", "只能包含数字，最后一位可以是 X"),
        ("   ", "不能为空"),
    ],
)
def test_id_shape(text: str, message: str) -> None:
    assert error_of(normalize_id_number, text, today=TODAY) == message


def test_id_rounded_by_excel_is_explained() -> None:
    assert "科学计数法" in error_of(normalize_id_number, "3.30781199001011e+17", today=TODAY)


def test_id_without_today_uses_the_clock() -> None:
    assert normalize_id_number(make_id()) == make_id()


# --- phones ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("0086-13912345678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),
        ("0579-88888888", "0579-88888888"),
        ("057988888888", "0579-88888888"),
        ("(0579)8888888", "0579-8888888"),
        ("010-62345678", "010-62345678"),
        ("+86 579 88888888", "0579-88888888"),
    ],
)
def test_valid_phones(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12912345678", "不是有效的手机号段"),
        ("1391234567", "手机号应为 11 位（现为 10 位）"),
        ("88888888", "固定电话请加区号，如 0579-88888888"),
        ("13912345678，13812345678", "只能填写一个号码"),
        ("139abc45678", "只能包含数字"),
        ("0579123", "不是有效的手机号或带区号的固定电话"),
        (" - ", "不能为空"),
    ],
)
def test_invalid_phones(text: str, message: str) -> None:
    assert error_of(normalize_phone, text) == message


# --- dates ---


@pytest.mark.parametrize(
    "text",
    [
        "2020-02-15",
        "2020-2-15",
        "2020/2/15",
        "2020.2.15",
        "2020年2月15日",
        "2020 年 2 月 15 日",
        "2020年2月15号",
        "20200215",
        "43876",  # Excel serial number
        "43876.5",
        "2020-02-15 00:00:00",
        "2020-02-15T08:30",
        "２０２０－０２－１５",
        "2月15日",
    ],
)
def test_date_forms(text: str) -> None:
    assert parse_date(text, today=TODAY) == dt.date(2020, 2, 15)


@pytest.mark.parametrize("value", [dt.date(2020, 2, 15), dt.datetime(2020, 2, 15, 13, 0), 43876, 43876.25])
def test_date_cells_and_serials(value: object) -> None:
    assert parse_date(value, today=TODAY) == dt.date(2020, 2, 15)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("2月15日", dt.date(2020, 1, 10), dt.date(2020, 2, 15)),  # a month ahead: this year
        ("12月20日", dt.date(2020, 1, 10), dt.date(2019, 12, 20)),  # would be 11 months ahead
        ("2月29日", dt.date(2020, 3, 1), dt.date(2020, 2, 29)),
        ("2月29日", dt.date(2021, 3, 1), dt.date(2020, 2, 29)),  # no 29th this year: the last one
    ],
)
def test_month_day_year_inference(text: str, today: dt.date, expected: dt.date) -> None:
    assert parse_date(text, today=today) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2020-02-30", "日期不存在"),
        ("2020-13-01", "日期不存在"),
        ("1850-01-01", "年份不合理"),
        ("2020", "无法识别的日期，请写成 2020-02-15 或 2020年2月15日"),
        ("下个月", "无法识别的日期，请写成 2020-02-15 或 2020年2月15日"),
        ("", "不能为空"),
    ],
)
def test_invalid_dates(text: str, message: str) -> None:
    assert error_of(parse_date, text, today=TODAY) == message


def test_february_29_outside_a_leap_year() -> None:
    assert error_of(parse_date, "2月29日", today=dt.date(2022, 3, 1)) == "日期不存在"


def test_bool_is_not_a_date() -> None:
    assert error_of(parse_date, True, today=TODAY) == "无法识别的日期"


# --- names and text ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        (" 张 三 ", "张三"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("阿卜杜 . 热合曼", "阿卜杜·热合曼"),
        ("John  Smith", "John Smith"),
        ("Ｊｏｈｎ Smith", "John Smith"),
        ("𠀾明", "𠀾明"),  # CJK extension B
    ],
)
def test_valid_names(text: str, expected: str) -> None:
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("王", "姓名应为 2–30 个字"),
        ("王" * 31, "姓名应为 2–30 个字"),
        ("张3", "姓名只能包含汉字或英文字母，少数民族姓名用「·」分隔"),
        ("·张三", "姓名只能包含汉字或英文字母，少数民族姓名用「·」分隔"),
        ("张三Smith", "姓名只能包含汉字或英文字母，少数民族姓名用「·」分隔"),
    ],
)
def test_invalid_names(text: str, message: str) -> None:
    assert error_of(normalize_name, text) == message


def test_free_text_is_tidied_and_capped() -> None:
    assert normalize_text(" 杭州\x00市\n 西湖区 ", max_length=10) == "杭州市 西湖区"
    assert error_of(normalize_text, "长" * 11, max_length=10) == "不能超过 10 个字（现为 11 个字）"
