"""The daily check-in in the chat: the daily_checkin flow's effects, and starting it for a reply.

Any message from a bound resident whose check-in is open today (the prompt went as a template
message, or the conversation timed out) starts the check-in; its answers go through the same
service as the mobile page and a staff call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.conversations import Turn, effect, starter
from bot.flows.model import Effect
from bot.models import Checkin, ContactMethod, Resident
from bot.services import checkins
from bot.services.checkin_answers import Answers

FLOW = "daily_checkin"


def _today(turn: Turn) -> tuple[Resident, Checkin] | None:
    resident = turn.identity.resident
    if resident is None:
        return None
    return resident, checkins.get_or_create(turn.db, resident, turn.today)


@effect("checkin_in_progress")
def in_progress(turn: Turn, _eff: Effect) -> Mapping[str, Any]:
    found = _today(turn)
    if found is not None:
        checkins.mark_in_progress(found[1])
    return {}


@effect("complete_checkin")
def complete_checkin(turn: Turn, eff: Effect) -> Mapping[str, Any]:
    found = _today(turn)
    if found is not None:
        resident, checkin = found
        answers = Answers.from_data(eff.data)
        checkins.complete(
            turn.db, turn.settings, resident, checkin, answers, method=ContactMethod.WECHAT, now=turn.now
        )
    return {}


@effect("phone_list")
def unclear_twice(turn: Turn, eff: Effect) -> Mapping[str, Any]:
    found = _today(turn)
    if found is not None:
        resident, checkin = found
        checkins.unclear(turn.db, turn.settings, resident, checkin, Answers.from_data(eff.data), turn.now)
    return {}


@starter
def todays_checkin(turn: Turn) -> str | None:
    resident = turn.identity.resident
    if resident is None:
        return None
    return FLOW if checkins.answerable(checkins.find(turn.db, resident.id, turn.today)) else None
