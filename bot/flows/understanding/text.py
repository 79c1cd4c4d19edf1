"""Text clean-up and the small scanning tools every reply parser shares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

# Real replies are a few dozen characters; anything far longer is not an answer, and refusing it
# keeps every parser linear-time on hostile input.
MAX_REPLY_CHARS = 500
# Before clean-up a reply may carry many emoji and spaces, but not this many.
_MAX_RAW_CHARS = 10 * MAX_REPLY_CHARS

# Sentence-final particles that carry tone, not meaning ("是的", "没有呢", "好啊").
PARTICLES = frozenset("啊呀哈呢嘛哦吧啦了的哟喔噢诶咯滴哒呐")

# Symbols we keep although Unicode files them with the emoji: the degree sign of "36.5℃".
_KEEP_SYMBOLS = frozenset("°")
# Unicode categories dropped as decoration: emoji and other symbols, modifiers, format characters
# (zero-width joiners), variation selectors and enclosing keycaps, private use, unassigned.
_DROP_CATEGORIES = frozenset({"So", "Sk", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})
_MODIFIER_CATEGORIES = frozenset({"Sk", "Cf", "Mn", "Me"})
# WeChat sends its built-in stickers as bracketed names: "[强]", "[微笑]", "[OK]".
_WECHAT_STICKER = re.compile(r"\[[^\[\]\d]{1,6}\]")
# Spaces only matter between latin words ("no problem"); in Chinese they are noise.
_SPACE = re.compile(r"\s+")

T = TypeVar("T")


def word_list(text: str) -> tuple[str, ...]:
    """Space-separated words: long lists of Chinese words stay readable and diffable."""
    return tuple(text.split())


def _is_decoration(ch: str) -> bool:
    return ch not in _KEEP_SYMBOLS and unicodedata.category(ch) in _DROP_CATEGORIES


def _one_space_between_latin(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    latin = start > 0 and end < len(text) and text[start - 1].isascii() and text[end].isascii()
    return " " if latin and text[start - 1].isalpha() and text[end].isalpha() else ""


def _is_edge_noise(ch: str) -> bool:
    # Punctuation and maths-ish decoration ("~", "…") around a reply say nothing.
    return ch.isspace() or unicodedata.category(ch)[0] == "P" or ch in "~+=|<>^`"


def clean(text: str, pictures: Mapping[str, str] | None = None) -> str:
    """normalize(), after first turning meaningful emoji/stickers into words (👍 → 好)."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Skin tones, variation selectors and joiners first, so "👍🏻👍🏻" is a run of plain thumbs-ups.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _MODIFIER_CATEGORIES)
    for picture, word in (pictures or {}).items():
        # Commas keep the word apart from its neighbours: "好的👌" → "好的,是," → two answers.
        text = re.sub(f"(?:{re.escape(picture)})+", f",{word},", text)
    text = _WECHAT_STICKER.sub("", text)
    text = "".join(ch for ch in text if not _is_decoration(ch))
    text = _SPACE.sub(_one_space_between_latin, text)
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    return text[start:end]


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), drop emoji/decoration, spaces and edge punctuation, lowercase."""
    return clean(text)


def prepare(text: str, pictures: Mapping[str, str] | None = None) -> str | None:
    """The cleaned reply, or None when it is empty or too long to be an answer."""
    if len(text) > _MAX_RAW_CHARS:
        return None  # cannot clean down to an answer: skip the work
    cleaned = clean(text, pictures)
    if not cleaned or len(cleaned) > MAX_REPLY_CHARS:
        return None
    return cleaned


def strip_particles(text: str) -> str:
    """Drop trailing tone particles and punctuation: "是的呀!" → "是"."""
    end = len(text)
    while end > 0 and (text[end - 1] in PARTICLES or _is_edge_noise(text[end - 1])):
        end -= 1
    return text[:end]


def collapse_repeats(text: str) -> str:
    """ "嗯嗯嗯" → "嗯", "对对对" → "对": a repeated one-character answer means the character."""
    return text[0] if text and text == text[0] * len(text) else text


def core(text: str) -> str:
    """The answer word of a short reply: no particles, no repetition."""
    return collapse_repeats(strip_particles(text))


def is_keyword(text: str, keywords: Collection[str]) -> bool:
    """Whether the reply is just one of ``keywords`` (compared after normalising both sides)."""
    reply = prepare(text)
    if reply is None:
        return False
    return core(reply) in {core(normalize(word)) for word in keywords}


def preceded_by(text: str, start: int, markers: Collection[str]) -> bool:
    """Whether one of ``markers`` ends exactly at ``start`` ("没" before "到家了")."""
    return any(text.endswith(marker, 0, start) for marker in markers)


def find_phrases(text: str, phrases: Collection[str], blockers: Collection[str] = ()) -> bool:
    """Whether some phrase occurs in ``text`` without one of ``blockers`` right before it."""
    for phrase in phrases:
        start = text.find(phrase)
        while start != -1:
            if not preceded_by(text, start, blockers):
                return True
            start = text.find(phrase, start + 1)
    return False


@dataclass(frozen=True)
class Hit(Generic[T]):
    """One lexicon word found in a text, or one unknown character (value None)."""

    start: int
    end: int
    value: T | None


class Lexicon(Generic[T]):
    """Greedy longest-match word scanner, indexed by first character so it stays linear."""

    def __init__(self, words: Mapping[str, T]) -> None:
        by_first: dict[str, list[tuple[str, T]]] = {}
        for word, value in words.items():
            if word:
                by_first.setdefault(word[0], []).append((word, value))
        self._by_first = {ch: sorted(items, key=lambda item: -len(item[0])) for ch, items in by_first.items()}

    def scan(self, text: str) -> Iterator[Hit[T]]:
        """Every position of ``text`` once: the longest word starting there, else the bare character."""
        i = 0
        while i < len(text):
            candidates = self._by_first.get(text[i], ())
            match = next((item for item in candidates if text.startswith(item[0], i)), None)
            if match is None:
                yield Hit(i, i + 1, None)
                i += 1
            else:
                yield Hit(i, i + len(match[0]), match[1])
                i += len(match[0])
