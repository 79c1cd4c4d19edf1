"""When the resident plans to come back: a date, already back, or not decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.flows.understanding.dates import LUNAR, find_dates
from bot.flows.understanding.text import find_phrases, prepare, word_list

ReturnKind = Literal["date", "returned", "undecided"]
Back = Literal["back", "soon"] | None


@dataclass(frozen=True)
class ReturnPlan:
    """``on``: the planned day for "date"; for "returned", the day they came back if they said it."""

    kind: ReturnKind
    on: date | None = None


# Plans further out than this are typing mistakes ("2030年"), not plans.
HORIZON = timedelta(days=366)

_RETURNED = word_list("""
    回来了 已经回来 已回来 早回来 刚回来 回来好几天 已经回 已回 已返回 已经返回 返回了 到家了 已到家
    已经到家 回到家 回老家了 在兰西 回兰西了 到兰西了 已到兰西 回到兰西 回到了兰西 回县里了
""")
# "还没到家": not back. "马上到家了", "明天就回来了": soon back, unless the day named has passed.
_NEGATIONS = word_list("""
    没 未 不 没有 还没
""")
_SOON = word_list("""
    快 快要 马上 就 就要 要 即将 准备 打算 计划 想 能 才能 再
""")
_UNDECIDED = word_list("""
    不确定 不一定 没定 未定 待定 不回 暂不回 暂时不 不知道 不清楚 不晓得 说不好 不好说 不好讲 没准
    说不准 难说 看情况 再说 等通知 没想好 没计划 没打算 没决定 定不了 回不来 回不去 回不了 不能回
    未知 还早 等疫情 疫情结束 疫情过后 疫情过去
""")


def _decide(back: Back, undecided: bool, when: date | None, today: date) -> ReturnPlan | None:
    if back is not None and undecided:
        return None  # "已经回来了，不确定": ask again
    if back == "back":
        return ReturnPlan("returned", when) if when is None or when <= today else None
    if back == "soon" and when is not None and when < today:
        return ReturnPlan("returned", when)  # "2月10号就回来了"
    if undecided:
        return ReturnPlan("undecided") if when is None else None
    if when is not None and today <= when <= today + HORIZON:
        return ReturnPlan("date", when)
    return None


def _back(reply: str) -> Back:
    if find_phrases(reply, _RETURNED, (*_NEGATIONS, *_SOON)):
        return "back"
    return "soon" if find_phrases(reply, _RETURNED, _NEGATIONS) else None


def parse_return_plan(text: str, today: date) -> ReturnPlan | None:
    """The return plan in a reply, relative to ``today``; None when unclear (several dates, a past
    date for a plan, a lunar date, contradictions)."""
    reply = prepare(text)
    if reply is None or LUNAR.search(reply):
        return None
    dates = find_dates(reply, today)
    if None in dates or len(set(dates)) > 1:
        return None
    return _decide(
        back=_back(reply),
        undecided=find_phrases(reply, _UNDECIDED),
        when=dates[0] if dates else None,
        today=today,
    )
