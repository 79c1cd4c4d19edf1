"""Exceptions raised while reading and validating township registry files.

Both carry a Simplified Chinese message meant for the data clerk. Messages never
contain a full ID number or phone number (see :mod:`bot.importing.masking`).
"""

from __future__ import annotations


class ImportFileError(Exception):
    """The file as a whole cannot be read (corrupt, unsupported, too large, no header row)."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


class FieldError(ValueError):
    """One cell value is invalid; the message names the problem, not the value."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
