"""Commands that work anywhere: help."""

from __future__ import annotations

import re

from bot.conversations import Turn, command, event
from bot.flows.model import Reply


@command(r"(帮助|help|\?|？|菜单)")
def help_command(turn: Turn, _match: re.Match[str]) -> list[Reply]:
    return [Reply("help")]


@event("click")
def help_menu(turn: Turn) -> list[Reply] | None:
    """The HELP menu item; other menu keys start their flows (see bot/flows/definitions)."""
    return [Reply("help")] if turn.msg.event_key == "HELP" else None
