"""Area handlers for the conversation router; importing this package registers them all."""

from bot.conversation_handlers import (
    advisories,  # noqa: F401
    binding,  # noqa: F401  - before checkins: an unbound user is asked to bind first
    checkins,  # noqa: F401
    general,  # noqa: F401
    tips,  # noqa: F401
)
