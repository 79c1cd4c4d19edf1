"""Canonical column names of the registry files and the variants townships actually use."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NAME = "姓名"
ID_NUMBER = "身份证号"
PHONE = "手机号"
HOUSEHOLD_ADDRESS = "户籍地址"
CURRENT_ADDRESS = "现居住地"
AWAY_SINCE = "外出时间"
AWAY_REASON = "外出原因"
EXPECTED_RETURN = "预计返回时间"
STATION = "所属派出所"
TOWNSHIP = "乡镇街道"
NOTE = "备注"
CODE = "代码"

RESIDENT_COLUMNS: tuple[str, ...] = (
    NAME,
    ID_NUMBER,
    PHONE,
    HOUSEHOLD_ADDRESS,
    CURRENT_ADDRESS,
    AWAY_SINCE,
    AWAY_REASON,
    EXPECTED_RETURN,
    STATION,
    TOWNSHIP,
    NOTE,
)
RESIDENT_REQUIRED: tuple[str, ...] = (NAME, ID_NUMBER, PHONE, STATION, TOWNSHIP)

# Jurisdiction files say 派出所; it shares the canonical name 所属派出所 with resident files.
JURISDICTION_COLUMNS: tuple[str, ...] = (TOWNSHIP, STATION, CODE)
JURISDICTION_REQUIRED: tuple[str, ...] = (TOWNSHIP, STATION)

_VARIANTS: dict[str, tuple[str, ...]] = {
    NAME: ("名字", "居民姓名", "人员姓名"),
    ID_NUMBER: (
        "身份证",
        "身份证号码",
        "公民身份号码",
        "公民身份证号",
        "身份证件号码",
        "证件号码",
        "证件号",
    ),
    PHONE: ("电话", "联系电话", "手机", "手机号码", "电话号码", "联系方式", "联系电话号码"),
    HOUSEHOLD_ADDRESS: ("户籍地", "户籍所在地", "户籍地详址", "户口所在地", "户籍详细地址"),
    CURRENT_ADDRESS: ("现住址", "现居地", "目前所在地", "现居住地址", "现所在地", "居住地", "现住地"),
    AWAY_SINCE: ("离开时间", "外出日期", "离开日期", "离乡时间"),
    AWAY_REASON: ("外出事由", "事由"),
    EXPECTED_RETURN: ("返回时间", "预计返乡时间", "预计返回日期", "返乡时间", "返回日期"),
    STATION: ("派出所", "管辖派出所", "所属派出所名称"),
    TOWNSHIP: ("乡镇", "街道", "所属乡镇", "所属乡镇街道", "乡镇街道名称"),
    NOTE: ("备注说明",),
    CODE: ("编码", "区划代码", "行政区划代码", "乡镇代码", "乡镇街道代码"),
}

_BRACKETS = "()[]【】〔〕<>《》"
_BRACKETED = re.compile(r"[(\[【〔<《][^)\]】〕>》]*[)\]】〕>》]")
_NOISE = re.compile(r"[\s*:：]")


def _key(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


_ALIASES: dict[str, str] = {_key(canonical): canonical for canonical in _VARIANTS}
_ALIASES.update({_key(v): canonical for canonical, variants in _VARIANTS.items() for v in variants})


def canonical_header(text: object) -> str | None:
    """The canonical column for a header cell, or None when it is not one we know.

    Tolerates spaces, asterisks marking required columns, full-width brackets and
    remarks in brackets such as ``手机号（必填）``; ``乡镇（街道）`` reads as 乡镇街道.
    """
    if not isinstance(text, str):
        return None
    key = _key(text)
    without_brackets = key.translate(str.maketrans("", "", _BRACKETS))
    return _ALIASES.get(without_brackets) or _ALIASES.get(_BRACKETED.sub("", key))


def count_recognised(cells: Iterable[object]) -> int:
    """How many distinct known columns a row names; a header row names at least two."""
    return len({c for c in map(canonical_header, cells) if c is not None})


@dataclass(frozen=True)
class HeaderLayout:
    """Where each column's values go: ``keys[i]`` is the dict key for column i, None to ignore it."""

    keys: tuple[str | None, ...]
    source_headers: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k is not None)


def layout_headers(cells: Sequence[object]) -> HeaderLayout:
    """Map header cells to row keys: canonical names for known columns, the original text otherwise.

    A second column that maps to the same canonical name keeps its own text as key so
    no value is lost, and a warning says which one was used.
    """
    keys: list[str | None] = []
    warnings: list[str] = []
    taken: set[str] = set()
    texts = tuple("" if c is None else str(c).strip() for c in cells)
    for index, text in enumerate(texts):
        canonical = canonical_header(text)
        key = canonical if canonical is not None and canonical not in taken else (text or None)
        if canonical is not None and key != canonical:
            warnings.append(f"有多列对应「{canonical}」，已使用第一列；「{text}」列按原样保留，不导入")
        if key is not None and key in taken:
            key = f"{key}（第{index + 1}列）"
        if key is not None:
            taken.add(key)
        keys.append(key)
    return HeaderLayout(keys=tuple(keys), source_headers=texts, warnings=tuple(warnings))


HEADER_SCAN_ROWS = 10


@dataclass(frozen=True)
class HeaderRow:
    row_number: int
    cells: tuple[object, ...]
    recognised: int


def locate_header(rows: Iterable[tuple[int, Sequence[object]]]) -> HeaderRow | None:
    """The first row among the first ten that names at least two known columns."""
    for scanned, (row_number, cells) in enumerate(rows, start=1):
        if scanned > HEADER_SCAN_ROWS:
            break
        recognised = count_recognised(cells)
        if recognised >= 2:
            return HeaderRow(row_number=row_number, cells=tuple(cells), recognised=recognised)
    return None
