"""Field validators: each returns the normalised value or raises FieldError (Chinese message).

Every validator first applies NFKC (full-width digits and letters become ASCII) and drops
spaces. Messages describe the problem only; the value is shown masked elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bot.importing.errors import FieldError

_SPACES = re.compile(r"\s+")
# The apostrophe Excel users (and our own error reports) put in front of text that looks like a number.
_TEXT_PREFIX = "'"


def clean(text: str) -> str:
    """NFKC, no whitespace at all, no leading text-marking apostrophe."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).removeprefix(_TEXT_PREFIX)


# --- ID numbers (GB 11643-1999) ---------------------------------------------------------------

# Province-level codes by region (north, north-east, east, south-central, south-west, north-west,
# Taiwan, Hong Kong, Macao); 83 is used on residence permits for Taiwan residents.
_PROVINCE_RANGES = (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
_PROVINCES = frozenset(str(code) for codes in (*_PROVINCE_RANGES, (71, 81, 82, 83)) for code in codes)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+")


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _birth_date(digits: str, today: dt.date) -> None:
    try:
        born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise FieldError("出生日期无效") from None
    if born.year < 1900:
        raise FieldError("出生日期无效")
    if born > today:
        raise FieldError("出生日期晚于今天")


def normalize_id_number(text: str, *, today: dt.date | None = None) -> str:
    """An 18-character resident ID number; legacy 15-digit numbers are converted."""
    value = clean(text).upper()
    if not value:
        raise FieldError("不能为空")
    if _SCIENTIFIC.fullmatch(value):
        raise FieldError("被 Excel 存成了科学计数法，后几位已丢失；请把该列设为「文本」格式后重新填写")
    if not re.fullmatch(r"\d{17}[\dX]|\d{15}", value):
        if re.fullmatch(r"\d*X?", value):
            raise FieldError(f"应为 18 位（现为 {len(value)} 位）")
        raise FieldError("只能包含数字，最后一位可以是 X")
    if value[:2] not in _PROVINCES:
        raise FieldError("地区码不正确")
    if len(value) == 15:
        first17 = value[:6] + "19" + value[6:]
        _birth_date(first17[6:14], today or dt.date.today())
        return first17 + id_check_digit(first17)
    _birth_date(value[6:14], today or dt.date.today())
    if id_check_digit(value[:17]) != value[17]:
        raise FieldError("校验位不正确")
    return value


# --- phone numbers ---------------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s\-()（）.]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# 010 and 02x are three-digit area codes; all others are four digits. Local numbers never start with 0/1.
_LANDLINE = re.compile(r"(010|02\d|0[3-9]\d{2})([2-9]\d{6,7})")


def _strip_country_code(value: str) -> str:
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            rest = value[len(prefix) :]
            return rest if rest.startswith("1") else "0" + rest
    if value.startswith("86") and len(value) == 13:
        return value[2:]
    return value


def normalize_phone(text: str) -> str:
    """Mainland mobile as 11 digits, or a landline as ``0579-88888888``."""
    value = _strip_country_code(_PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text)).removeprefix("'"))
    if not value:
        raise FieldError("不能为空")
    if re.search(r"[,，;；/、]", value):
        raise FieldError("只能填写一个号码")
    if not value.isdigit():
        raise FieldError("只能包含数字")
    if _MOBILE.fullmatch(value):
        return value
    if value.startswith("1"):
        if len(value) != 11:
            raise FieldError(f"手机号应为 11 位（现为 {len(value)} 位）")
        raise FieldError("不是有效的手机号段")
    landline = _LANDLINE.fullmatch(value)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    if len(value) in (7, 8) and not value.startswith("0"):
        raise FieldError("固定电话请加区号，如 0579-88888888")
    raise FieldError("不是有效的手机号或带区号的固定电话")


# --- dates -----------------------------------------------------------------------------------

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_FULL_DATE = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}")
_CHINESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})[日号]?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Five digits only: shorter numbers are far more likely a year or a typo than a 1900s date.
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's fictitious 1900-02-29 is counted
_SPACED_SEPARATOR = re.compile(r"\s*([年月日号./\-])\s*")
_FAR_FUTURE = dt.timedelta(days=183)


def _make_date(year: int, month: int, day: int) -> dt.date:
    if not 1900 <= year <= 2100:
        raise FieldError("年份不合理")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError("日期不存在") from None


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < 2_958_466:  # Excel's last day is 9999-12-31
        raise FieldError("无法识别的日期")
    day = _EXCEL_EPOCH + dt.timedelta(days=int(serial))
    return _make_date(day.year, day.month, day.day)


def _month_day(month: int, day: int, today: dt.date) -> dt.date:
    """A date written without a year: this year, or last year when this year's would be months ahead."""
    try:
        this_year: dt.date | None = _make_date(today.year, month, day)
    except FieldError:  # 2月29日 outside a leap year
        this_year = None
    if this_year is not None and this_year - today <= _FAR_FUTURE:
        return this_year
    return _make_date(today.year - 1, month, day)


def _parse_text(text: str, today: dt.date) -> dt.date:
    value = unicodedata.normalize("NFKC", text).strip().removeprefix("'")
    if " " in value:
        value = _SPACED_SEPARATOR.sub(r"\1", value)
    for pattern in (_FULL_DATE, _CHINESE_DATE, _COMPACT_DATE):
        match = pattern.fullmatch(value)
        if match:
            return _make_date(*(int(part) for part in match.groups()))
    match = _MONTH_DAY.fullmatch(value)
    if match:
        return _month_day(int(match.group(1)), int(match.group(2)), today)
    if _SERIAL.fullmatch(value):
        return _from_serial(float(value))
    raise FieldError("无法识别的日期，请写成 2020-02-15 或 2020年2月15日")


def parse_date(value: str | dt.date | float, *, today: dt.date) -> dt.date:
    """Dates as clerks write them, Excel serial numbers, and date cells."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise FieldError("无法识别的日期")
    if isinstance(value, int | float):
        return _from_serial(value)
    if not value.strip():
        raise FieldError("不能为空")
    return _parse_text(value, today)


# --- names and free text ---------------------------------------------------------------------

_DOTS = str.maketrans(dict.fromkeys("•‧・･∙⋅.", "·"))
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3007"
_NAME_PART = rf"(?:[{_CJK}]+|[A-Za-z]+(?:[ '\-][A-Za-z]+)*)"
_NAME = re.compile(rf"{_NAME_PART}(?:·{_NAME_PART})*")
_HAS_CJK = re.compile(rf"[{_CJK}]")


def normalize_name(text: str) -> str:
    """A person's name: 2-30 characters, Chinese or Latin letters, parts joined with ·."""
    value = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).translate(_DOTS)).strip()
    value = re.sub(r" ?· ?", "·", value)
    if _HAS_CJK.search(value):
        value = value.replace(" ", "")  # 张 三 is 张三; spaces only separate Latin words
    if not value:
        raise FieldError("不能为空")
    if not 2 <= len(value) <= 30:
        raise FieldError("姓名应为 2–30 个字")
    if not _NAME.fullmatch(value):
        raise FieldError("姓名只能包含汉字或英文字母，少数民族姓名用「·」分隔")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str, *, max_length: int) -> str:
    """Free text (addresses, reasons, notes): whitespace collapsed, control characters removed."""
    value = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    if len(value) > max_length:
        raise FieldError(f"不能超过 {max_length} 个字（现为 {len(value)} 个字）")
    return value
