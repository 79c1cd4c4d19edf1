"""Calendar dates as residents type them: 2020-02-20, 2月20号, 20号, 下周一, 三天后, 月底."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

from bot.flows.understanding.numerals import CHINESE_NUMBER_CHARS, to_int

_CN = CHINESE_NUMBER_CHARS
_N = f"[{_CN}]{{1,3}}"
_UNIT = "[一二三四五六七八九]"  # a small Chinese number: 五, 十二, 二十一, 廿五
_NUM = rf"(?:\d{{1,2}}|{_N})"
# A year-less date this far in the past is meant for next year ("1月3日" said on 28 December).
_ROLLOVER_AFTER = timedelta(days=183)
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "明儿": 1,
    "明早": 1,
    "明晚": 1,
    "后天": 2,
    "后日": 2,
    "后儿": 2,
    "大后天": 3,
}
_MONTHS_AHEAD = {"这": 0, "本": 0, "下": 1, "下下": 2}
_DAYS_PER_UNIT = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}
# The lunar calendar (正月十五, 初八) needs a conversion table we do not guess at.
LUNAR = re.compile(r"正月|腊月|农历|阴历|初[一二三四五六七八九十]")

Handler = Callable[[re.Match[str], date], date | None]


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _add_months(start: date, months: int, day: int | None = None) -> date | None:
    """The same day ``months`` later (clamped to the month's end), or the given ``day`` of that month."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    if day is None:
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return _day(year, month + 1, day)


def _month_end(start: date, months: int) -> date:
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _number(text: str | None) -> int | None:
    return to_int(text) if text else None


def _full(match: re.Match[str], today: date) -> date | None:
    return _day(int(match["y"]), int(match["m"]), int(match["d"]))


def _month_day(match: re.Match[str], today: date) -> date | None:
    month, day = _number(match["m"]), _number(match["d"])
    if month is None or day is None:
        return None
    when = _day(today.year, month, day)
    if when is not None and today - when > _ROLLOVER_AFTER:
        return _day(today.year + 1, month, day)
    return when


def _month_end_of(match: re.Match[str], today: date) -> date | None:
    if match["m"]:
        month = _number(match["m"])
        return None if month is None or not 1 <= month <= 12 else _month_end(date(today.year, month, 1), 0)
    return _month_end(today, 1 if match["next"] else 0)


def _day_in_named_month(match: re.Match[str], today: date) -> date | None:
    day = _number(match["d"])
    return None if day is None else _add_months(today, _MONTHS_AHEAD[match["which"]], day)


def _day_alone(match: re.Match[str], today: date) -> date | None:
    day = _number(match["d"] or match["d2"] or match["d3"])
    if day is None:
        return None
    return _add_months(today, 0 if day >= today.day else 1, day)  # "5号" said on the 20th: next month


def _relative(match: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=_RELATIVE_DAYS[match.group()])


def _weekday(match: re.Match[str], today: date) -> date | None:
    day = match["d"]
    if day == "末":
        return None  # 周末 is two days: ask again
    monday = today - timedelta(days=today.weekday())
    which = match["which"]
    if which in ("这", "本"):
        return monday + timedelta(days=_WEEKDAYS[day])
    if which:
        return monday + timedelta(days=7 * len(which) + _WEEKDAYS[day])  # 下 = +1 week, 下下 = +2
    ahead = (_WEEKDAYS[day] - today.weekday()) % 7 or 7  # "周三" is the next Wednesday after today
    return today + timedelta(days=ahead)


def _offset(match: re.Match[str], today: date) -> date | None:
    count, unit = match["n"], match["unit"]
    if count == "半":
        return today + timedelta(days=15) if unit == "月" else None
    number = _number(count)
    if number is None:
        return None
    if unit == "月":
        return _add_months(today, number)
    return today + timedelta(days=number * _DAYS_PER_UNIT[unit])


# In order: each pass blanks out what it recognised so later, looser passes cannot re-read it.
_PASSES: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (re.compile(r"(?<!\d)(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?(?!\d)"), _full),
    (re.compile(rf"(?:(?P<next>下个?)|(?<!\d)(?P<m>{_NUM}))?月底"), _month_end_of),
    (re.compile(rf"(?P<which>下下|下|这|本)个?月(?:份)?(?P<d>{_NUM})[日号]?(?!\d)"), _day_in_named_month),
    (re.compile(rf"(?<!\d)(?P<m>{_NUM})月(?:份)?(?P<d>{_NUM})[日号]?(?!\d)"), _month_day),
    (re.compile(r"(?<![\d.])(?P<m>\d{1,2})[/.](?P<d>\d{1,2})(?![\d.])"), _month_day),
    (re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True))), _relative),
    (re.compile(r"(?P<which>下下|下|这|本)?个?(?:周|星期|礼拜)(?P<d>[一二三四五六日天末])"), _weekday),
    (
        re.compile(
            rf"(?<![个\d{_CN}])(?P<n>\d{{1,3}}|[{_CN}半几]{{1,3}})个?(?P<unit>天|日|周|星期|礼拜|月)(?:以后|之后|后)"
        ),
        _offset,
    ),
    (
        re.compile(
            rf"(?<![\d月])(?P<d>\d{{1,2}})[号日](?!\d)|(?<![{_CN}月])(?P<d2>{_N})号"
            rf"|(?<![{_CN}月])(?P<d3>[一二三]?十{_UNIT}?|[廿卅]{_UNIT}?)日"
        ),
        _day_alone,
    ),
)


def find_dates(text: str, today: date) -> list[date | None]:
    """Every date the text names, in pass order; None for one named but impossible or vague."""
    found: list[date | None] = []
    for pattern, handler in _PASSES:
        for match in pattern.finditer(text):
            found.append(handler(match, today))
        text = pattern.sub(lambda match: "\0" * len(match.group()), text)
    return found
