"""Yes / no answers: 是 / 嗯 / 对 / 1 versus 否 / 没有 / 不是 / 2, dialect included."""

from __future__ import annotations

import re

from bot.flows.understanding.text import core, prepare, word_list

PICTURES = {
    "👍": "是",
    "👌": "是",
    "✅": "是",
    "✔": "是",
    "[强]": "是",
    "[ok]": "是",
    "❌": "否",
    "✖": "否",
    "🙅": "否",
    "[弱]": "否",
}

_YES = frozenset(
    word_list("""
    是 对 嗯 恩 有 好 要 需要 可以 确认 确定 没错 对头 正确 当然 必须 同意 中 妥 嗯哪 嗯呐 昂 是滴 对滴
    yes y yeah yep ok okay 1
""")
)
_NO = frozenset(
    word_list("""
    否 不是 没有 无 不 没 不对 不要 不用 不需要 不行 不可以 不好 木有 没得 莫得 冇 还没 还没有 没呢 错
    不对头 不中 不同意 no n nope 2
""")
)
_CLAUSE = re.compile(r"[,，。.!！?？;；、\s]+")


def _answer(clause: str) -> bool | None:
    word = core(clause)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when unclear.

    The first clause answers ("对，我在北京" is yes); a later clause that answers the other way
    ("是，不对，没有") makes the whole reply unclear.
    """
    reply = prepare(text, PICTURES)
    if reply is None:
        return None
    clauses = [clause for clause in _CLAUSE.split(reply) if clause]
    first = _answer(clauses[0])
    if first is None or any(_answer(clause) is (not first) for clause in clauses[1:]):
        return None
    return first
