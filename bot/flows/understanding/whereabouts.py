"""Where the resident is now: unchanged since last time, or a named city / province."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.understanding.places import AmbiguousPlace, mentioned, one_place
from bot.flows.understanding.text import core, find_phrases, prepare, word_list


@dataclass(frozen=True)
class Whereabouts:
    """``unchanged``: they say they have not moved. ``city``: the place they name (short name), if any.

    Both can be set ("没变，还在北京"): the caller may compare the city with what it has on record.
    """

    unchanged: bool
    city: str | None


_UNCHANGED_ALONE = frozenset({"1", "选1", "一", "同上", "一样", "没变", "不变", "照旧", "老地方"})
_UNCHANGED = word_list("""
    没变 没有变 没改变 没有改变 无变化 不变 没动 没有动 没挪 没走 没有走 没离开 没有离开 同上 一样
    照旧 依旧 老地方 原地 原来的地方 还在 仍在 依然在 一直在 仍然在 还是在 还是那 还是这
""")
_CHANGED = word_list("""
    变了 有变 变化了 换了 换地方 搬了 挪了 走了 离开了 去了 到了 转到 不在这 不在那
""")
# "不一样", "没走了": a negation right before a phrase turns it around.
_NEGATIONS = ("不", "没", "没有")


def parse_whereabouts(text: str) -> Whereabouts | None:
    """Unchanged and/or a city; None when the reply says neither clearly or names clashing places."""
    reply = prepare(text)
    if reply is None:
        return None
    if core(reply) in _UNCHANGED_ALONE:
        return Whereabouts(unchanged=True, city=None)
    try:
        place = one_place(mentioned(reply))
    except AmbiguousPlace:
        return None
    unchanged = find_phrases(reply, _UNCHANGED, _NEGATIONS)
    if unchanged and find_phrases(reply, _CHANGED, _NEGATIONS):
        return None
    city = place.name if place else None
    if not unchanged and city is None:
        return None
    return Whereabouts(unchanged=unchanged, city=city)
