"""Acknowledgements of advisories ("收到", "已收到", "👌" ...) from WeCom members and OA followers.

Which advisory a reply acknowledges is decided in ``bot.services.advisory_reach`` (the latest one
delivered to that chat, customer group, forwarder or to followers, within its window). The bot stays
silent: answering every "收到" would flood a group and tell a follower nothing new. A "收到" to the Official
Account with no advisory to acknowledge is routed like any other message.
"""

from __future__ import annotations

import re

from bot.conversations import Turn, command, event
from bot.flows.model import Reply
from bot.services import advisory_reach


@event("wecom_message")
def wecom_ack(turn: Turn) -> list[Reply] | None:
    text = (turn.msg.content or "").strip()
    if turn.msg.msg_type != "text" or not advisory_reach.is_ack(text):
        return None
    chat_id = turn.msg.raw.get("ChatId") or turn.msg.raw.get("ChatID") or ""
    delivery = advisory_reach.ack_target_wecom(turn.db, turn.msg.sender, chat_id.strip(), turn.now)
    if delivery is not None:
        advisory_reach.record_ack(turn.db, delivery, turn.msg.sender, turn.now)
    return []


@command(advisory_reach.RECEIVED_PATTERN)
def official_account_ack(turn: Turn, _match: re.Match[str]) -> list[Reply] | None:
    delivery = advisory_reach.ack_target_official_account(turn.db, turn.now)
    if delivery is None:
        return None  # nothing to acknowledge: route it as any other message (a check-in may be open)
    advisory_reach.record_ack(turn.db, delivery, turn.msg.sender, turn.now)
    return []
