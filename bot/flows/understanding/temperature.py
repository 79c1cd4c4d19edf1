"""Body temperatures in replies: "37.8", "37度8", "三十七度五", "体温36.5℃"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.flows.understanding.numerals import DIGITS, to_int
from bot.flows.understanding.text import prepare

LOWEST = Decimal("34.0")
HIGHEST = Decimal("43.0")
FEVER_FROM = Decimal("37.3")
_TENTH = Decimal("0.1")

_CN_DIGIT = "零〇一二三四五六七八九"
_TEMPERATURE = re.compile(
    rf"(?<![\d.{_CN_DIGIT}十百])"
    # Whole degrees: two arabic digits, or 三十x / 四十x not followed by another numeral ("三十七八度").
    rf"(?P<whole>\d\d(?!\d)|[三四]十[一二三四五六七八九]?(?![{_CN_DIGIT}十]))"
    r"(?:"
    # 37.5 / 37。5 / 37·5 / 三十七点五, with an optional unit after.
    rf"(?P<dot>[.。·点])(?P<tenths>\d{{1,2}}|[{_CN_DIGIT}])(?P<unit>摄氏度|度|°c?|c(?![a-z]))?"
    # 37度 / 37度8 / 三十七度五 / 37度半.
    rf"|(?P<degree>摄氏度|度|°c?)(?P<after>\d|[{_CN_DIGIT}半])?"
    r")?"
    rf"(?![\d{_CN_DIGIT}])(?![.。·]\d)"
)
# Before a bare "37" these make it a temperature rather than an age or a count.
_CONTEXT = re.compile(r"(体温|温度|测了?|量了?|烧到|烧了|到了)(是|为|有)?[:]?$")
# After a value these make it a bound or an estimate, not a reading: "37.3℃以上", "38度多".
_QUALIFIERS = ("以上", "以下", "多", "几")


@dataclass(frozen=True)
class Mention:
    """A temperature written in a reply; ``qualifier`` is "" for an exact reading."""

    value: Decimal
    qualifier: str


def _fraction(text: str | None) -> str:
    if not text:
        return "0"
    if text == "半":
        return "5"
    return str(DIGITS[text]) if text in DIGITS else text


def _value(match: re.Match[str]) -> Decimal | None:
    whole = to_int(match["whole"])
    if whole is None:
        return None
    value = Decimal(f"{whole}.{_fraction(match['tenths'] or match['after'])}")
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)


def _is_bare(match: re.Match[str]) -> bool:
    return match["dot"] is None and match["degree"] is None


def _stated_as_temperature(text: str, match: re.Match[str]) -> bool:
    # A bare number counts only as the whole reply or right after 体温/测了.
    return match.group() == text or _CONTEXT.search(text, 0, match.start()) is not None


def _qualifier(text: str, end: int) -> str:
    return next((word for word in _QUALIFIERS if text.startswith(word, end)), "")


def mentions(text: str) -> list[Mention]:
    """Every plausible body temperature in an already normalised reply, in order."""
    found: list[Mention] = []
    for match in _TEMPERATURE.finditer(text):
        if _is_bare(match) and not _stated_as_temperature(text, match):
            continue
        value = _value(match)
        if value is not None and LOWEST <= value <= HIGHEST:
            found.append(Mention(value, _qualifier(text, match.end())))
    return found


def leading_temperature(text: str) -> Mention | None:
    """The body temperature ``text`` starts with, a bare number too: after an option number
    ("2，38") a number is a reading. None when it starts with any other number ("12", "2.38")."""
    match = _TEMPERATURE.match(text)
    value = _value(match) if match is not None else None
    if match is None or value is None or not LOWEST <= value <= HIGHEST:
        return None
    return Mention(value, _qualifier(text, match.end()))


def parse_temperature(text: str) -> Decimal | None:
    """The one body temperature the reply states (34.0–43.0, one decimal); None if none or several."""
    reply = prepare(text)
    if reply is None:
        return None
    values = {mention.value for mention in mentions(reply) if not mention.qualifier}
    return values.pop() if len(values) == 1 else None
