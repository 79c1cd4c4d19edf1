"""The HELP menu item. (Typed "帮助" needs no command: outside a flow, anything unrecognised gets
the general help, and inside one the flow's own help command repeats the question.)"""

from __future__ import annotations

from bot.conversations import Turn, event
from bot.flows.model import Reply


@event("click")
def help_menu(turn: Turn) -> list[Reply] | None:
    """The HELP menu item; other menu keys start their flows (see bot/flows/definitions)."""
    return [Reply("general_help")] if turn.msg.event_key == "HELP" else None
