"""Chinese provinces and cities named in a reply, from the word lists in bot/flows/data/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.flows.understanding.text import Lexicon, preceded_by, word_list


@dataclass(frozen=True)
class Place:
    name: str  # the short name: 武汉, 延边, 内蒙古
    province: str  # short name of its province; a province is its own

    @property
    def is_province(self) -> bool:
        return self.name == self.province


# Before a name, these say it is not where the resident is now: 从武汉回来, 老家黑龙江, 不在北京了.
_NOT_HERE_BEFORE = word_list("""
    从 离开 离开了 不在 没在 不是在 老家 老家是 老家在 户籍 户口 原来 原来在 本来在 之前 之前在 以前
    以前在 路过 途经 经过 去过 没去 不去
""")
# After a name, these make it a district, a street or an origin: 朝阳区, 中山路, 哈尔滨人, 吉林大学.
_NOT_HERE_AFTER = word_list("""
    区 路 街 大街 大道 道 胡同 巷 小区 村 人 大学 话 菜
""")


def _lines(name: str) -> Iterator[str]:
    text = resources.files("bot.flows").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def _add(words: dict[str, Place | None], line: str, province: str | None) -> None:
    short, *others = line.split()
    name = short.removeprefix("~")
    place = Place(name, province or name)
    spellings = others if short.startswith("~") else [name, *others]
    for spelling in spellings:
        known = words.setdefault(spelling, place)
        if known is not None and known.name != name:
            raise ValueError(f"place word list: {spelling!r} names both {known.name} and {name}")


@cache
def _spellings() -> dict[str, Place | None]:
    words: dict[str, Place | None] = {}
    for line in _lines("provinces.txt"):
        _add(words, line, None)
    province: str | None = None
    for line in _lines("cities.txt"):
        if line.startswith("["):
            province = line.strip("[]")
        elif province is not None:
            _add(words, line, province)
    for line in _lines("not_places.txt"):
        words[line] = None
    return words


@cache
def gazetteer() -> Lexicon[Place | None]:
    """Every spelling of every place (and the look-alikes that are not places), loaded once."""
    return Lexicon(_spellings())


def known_places() -> frozenset[Place]:
    """Every province and city in the word lists."""
    return frozenset(place for place in _spellings().values() if place is not None)


def mentioned(text: str) -> list[Place]:
    """Places the text names as where someone is (origins, districts and streets left out)."""
    found: list[Place] = []
    for hit in gazetteer().scan(text):
        if hit.value is None or preceded_by(text, hit.start, _NOT_HERE_BEFORE):
            continue
        if any(text.startswith(word, hit.end) for word in _NOT_HERE_AFTER):
            continue
        found.append(hit.value)
    return found


class AmbiguousPlace(Exception):
    """The reply names places that do not fit together (北京 and 武汉)."""


def one_place(places: list[Place]) -> Place | None:
    """The single place meant: a city beats its own province; None for none.

    Raises AmbiguousPlace when two cities, or a city and another province, are named.
    """
    distinct = list(dict.fromkeys(places))
    cities = [place for place in distinct if not place.is_province]
    provinces = [place for place in distinct if place.is_province]
    if len(cities) > 1:
        raise AmbiguousPlace
    if cities:
        if any(province.name != cities[0].province for province in provinces):
            raise AmbiguousPlace
        return cities[0]
    if len(provinces) > 1:
        raise AmbiguousPlace
    return provinces[0] if provinces else None
