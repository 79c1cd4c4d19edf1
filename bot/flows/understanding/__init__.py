"""Understanding residents' free-text check-in replies (pure functions, no I/O beyond word lists).

Every parser returns None when it is unsure: the flow then asks again rather than guessing.
"""

from bot.flows.understanding.health import Health, parse_health, separate_choice
from bot.flows.understanding.return_plan import ReturnKind, ReturnPlan, parse_return_plan
from bot.flows.understanding.temperature import parse_temperature
from bot.flows.understanding.text import MAX_REPLY_CHARS, is_keyword, normalize
from bot.flows.understanding.whereabouts import Whereabouts, parse_whereabouts
from bot.flows.understanding.yes_no import parse_yes_no

__all__ = [
    "MAX_REPLY_CHARS",
    "Health",
    "ReturnKind",
    "ReturnPlan",
    "Whereabouts",
    "is_keyword",
    "normalize",
    "parse_health",
    "parse_return_plan",
    "parse_temperature",
    "parse_whereabouts",
    "parse_yes_no",
    "separate_choice",
]
