"""Matching station and township names as clerks type them against the registered ones."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from bot.importing.errors import FieldError

STATION_SUFFIXES = ("派出所",)
TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
_LISTED = 8


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _base(key: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:  # longest first, so 街道办事处 wins over 街道
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


class NameMatcher:
    """Finds the registered name meant by a typed one, ignoring spaces and an optional suffix.

    ``kind`` is the Chinese noun used in messages (派出所, 乡镇街道).
    """

    def __init__(self, known: Iterable[str], *, kind: str, suffixes: tuple[str, ...]) -> None:
        self.kind = kind
        self._suffixes = suffixes
        self._known = list(dict.fromkeys(known))
        self._exact = {_key(name): name for name in self._known}
        self._by_base: dict[str, list[str]] = {}
        for name in self._known:
            self._by_base.setdefault(_base(_key(name), suffixes), []).append(name)

    def match(self, text: str) -> str:
        """The registered name; FieldError naming the candidates when none or several fit."""
        key = _key(text)
        if key in self._exact:
            return self._exact[key]
        candidates = self._by_base.get(_base(key, self._suffixes), [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise FieldError(f"对应多个{self.kind}：{'、'.join(candidates)}，请写全称")
        raise FieldError(self._unknown_message(key))

    def _unknown_message(self, key: str) -> str:
        if not self._known:
            return f"系统中还没有登记任何{self.kind}，请先导入辖区"
        close = difflib.get_close_matches(key, list(self._exact), n=3, cutoff=0.5)
        hint = f"您是不是要填：{'、'.join(self._exact[c] for c in close)}？" if close else ""
        shown = "、".join(self._known[:_LISTED])
        more = f" 等共 {len(self._known)} 个" if len(self._known) > _LISTED else ""
        return f"未登记的{self.kind}。{hint}已登记的{self.kind}：{shown}{more}"
