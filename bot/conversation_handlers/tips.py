"""Rumor tips in the chat: filing one (the rumor_tip flow's submit_tip effect) and asking about one's own.

``查询 T20200215-0042`` answers only about the asker's own tips, and says the same thing for
someone else's ticket as for one that does not exist, so tickets cannot be enumerated.
Limits and blocking are checked when the tip is filed; the closing reply then says why not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.conversations import Turn, command, effect
from bot.flows.model import Effect, Json, Reply
from bot.models import TipChannel
from bot.services import tips


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def new_tip_from(turn: Turn, data: Mapping[str, Any]) -> tips.NewTip:
    """The flow's answers as a tip. A link keeps its title as the text; a picture's URL is WeChat's own
    copy of it, not a link anyone shared, so it is not kept."""
    kind = _text(data.get("kind")) or "text"
    return tips.NewTip(
        channel=TipChannel.WECHAT,
        reporter_hash=tips.reporter_hash_of_openid(turn.identity.openid),
        reporter_identity_id=turn.identity.id,
        kind=kind,
        text=_text(data.get("content")),
        url=_text(data.get("url")) if kind == "link" else "",
        seen_where=_text(data.get("seen_where")),
        seen_when=_text(data.get("seen_when")),
        media_ref=_text(data.get("media_id")) if kind in tips.MEDIA_KINDS else "",
    )


@effect("submit_tip")
def submit_tip(turn: Turn, eff: Effect) -> Mapping[str, Any]:
    new = new_tip_from(turn, eff.data)
    try:
        tip = tips.submit(turn.db, turn.settings, new, now=turn.now, identity=turn.identity, in_a_hurry=True)
    except tips.TipRefused as refused:
        return {"ticket": "", "tip_refused": refused.reason}
    return {"ticket": tip.ticket}


@command(r"查询\s*[:：]?\s*([Tt]\d{8}-\d{4,6})")
def query_ticket(turn: Turn, match: re.Match[str]) -> list[Reply]:
    ticket = match.group(1).upper()
    tip = tips.find_own(turn.db, turn.identity.id, ticket)
    if tip is None:
        return [Reply("tips/not_found", {"ticket": ticket})]
    return [Reply("tips/status", dict(tips.reporter_view(turn.settings, tip).as_params()))]


@command(r"(?:查询|查看)?我的(?:举报|线索)|(?:查询|查看)(?:举报|线索)")
def my_tips(turn: Turn, _match: re.Match[str]) -> list[Reply]:
    own = tips.recent_own(turn.db, turn.identity.id)
    listed: list[Json] = [dict(tips.reporter_view(turn.settings, tip).as_params()) for tip in own]
    return [Reply("tips/mine", {"tips": listed})]
