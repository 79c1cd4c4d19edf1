"""Advisory wording: sandboxed Jinja2 text templates with a few variables, and the sensitive-word check.

Composers write ``{{ county }}``, ``{{ date }}`` and ``{{ hotline }}`` in titles and bodies. Rendering
runs in Jinja2's sandbox with StrictUndefined, so a typo is an error the composer sees, never an empty
gap a resident reads, and a template cannot reach Python objects.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

VARIABLES = ("county", "date", "hotline")
# Words an official advisory must not carry: classification marks and hearsay phrasing.
BUILTIN_SENSITIVE_WORDS = ("绝密", "机密", "内部资料", "内部文件", "内部消息", "小道消息", "据传", "未经证实")
# Characters slipped between the letters of a word to get it past a check.
_FILLER = re.compile(r"[\s\u200b-\u200f\u2060\ufeff·・.。,，*_\-—|/\\]+")


class TemplateProblem(ValueError):
    """A title or body that does not render; the message is for the composer, in Chinese."""


@dataclass(frozen=True)
class Variables:
    county: str
    day: date
    hotline: str

    def as_context(self) -> dict[str, str]:
        return {
            "county": self.county,
            "date": f"{self.day.year}年{self.day.month}月{self.day.day}日",
            "hotline": self.hotline,
        }


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def render(source: str, variables: Variables) -> str:
    """The text with its variables filled in; TemplateProblem when it does not render."""
    try:
        return _environment().from_string(source).render(variables.as_context())
    except UndefinedError as exc:
        names = "、".join(VARIABLES)
        raise TemplateProblem(f"模板中有未知变量（{exc.message}），可用变量：{names}") from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"第 {line} 行" if line else "模板"
        raise TemplateProblem(f"{where}语法有误：{exc.message or type(exc).__name__}") from None


@dataclass(frozen=True)
class SensitiveHit:
    word: str
    position: int  # 1-based character position in the checked text


def _folded(text: str) -> tuple[str, list[int]]:
    """The text normalised for matching (width, case, fillers removed) and each kept char's position."""
    kept: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(unicodedata.normalize("NFKC", text)):
        if _FILLER.fullmatch(char):
            continue
        kept.append(char.casefold())
        positions.append(index + 1)
    return "".join(kept), positions


def sensitive_words(text: str, extra: Iterable[str] = ()) -> list[SensitiveHit]:
    """Every listed word found in ``text`` (also when spaced out or full-width), in reading order."""
    folded, positions = _folded(text)
    hits: list[SensitiveHit] = []
    for word in dict.fromkeys((*BUILTIN_SENSITIVE_WORDS, *extra)):
        needle, _ = _folded(word)
        if not needle:
            continue
        start = folded.find(needle)
        while start != -1:
            hits.append(SensitiveHit(word, positions[start]))
            start = folded.find(needle, start + len(needle))
    return sorted(hits, key=lambda hit: hit.position)


def describe_hits(hits: Iterable[SensitiveHit], where: str) -> str:
    listed = "，".join(f"「{hit.word}」（第 {hit.position} 字）" for hit in hits)
    return f"{where}含有敏感词：{listed}，请修改后再提交。"


def plain_summary(text: str, limit: int = 120) -> str:
    """The first ``limit`` characters of a body as one line (Markdown marks dropped), for cards."""
    without_marks = re.sub(r"[#>*_`\[\]]|\(https?://[^)]*\)", "", text)
    one_line = " ".join(without_marks.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def context_for(values: Mapping[str, str]) -> str:
    """For the compose page: the variables and what they stand for today."""
    return "；".join(f"{{{{ {name} }}}} = {values[name]}" for name in VARIABLES)
