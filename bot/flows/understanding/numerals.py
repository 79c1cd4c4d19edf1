"""Chinese numerals as people type them for dates and temperatures (一 .. 九十九)."""

from __future__ import annotations

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# 廿 / 卅 are the old single characters for twenty and thirty, still common in dates ("廿五号").
_TENS = {"廿": 20, "卅": 30}
# A character class for regexes that accept either spelling of a small number.
CHINESE_NUMBER_CHARS = "零〇一二两三四五六七八九十廿卅"


def _digit(text: str) -> int | None:
    return DIGITS.get(text) if len(text) == 1 else None


def to_int(text: str) -> int | None:
    """ "7" → 7, "十五" → 15, "二十一" → 21, "廿一" → 21, "两" → 2; None for anything else."""
    if text.isascii() and text.isdigit():
        return int(text)
    if text and text[0] in _TENS:
        rest = text[1:]
        units = _digit(rest) if rest else 0
        return None if units is None else _TENS[text[0]] + units
    if "十" not in text:
        return _digit(text)
    tens_text, _, units_text = text.partition("十")
    tens = _digit(tens_text) if tens_text else 1
    units = _digit(units_text) if units_text else 0
    if tens is None or units is None or tens == 0:
        return None
    return tens * 10 + units
