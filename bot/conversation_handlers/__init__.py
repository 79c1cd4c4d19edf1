"""Area handlers for the conversation router; importing this package registers them all."""

from bot.conversation_handlers import general  # noqa: F401
