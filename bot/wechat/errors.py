"""Callback errors, each carrying the HTTP status to answer and a reason safe to log."""

from __future__ import annotations


class CallbackError(Exception):
    """A callback request we refuse. `reason` never contains secrets or message content."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadSignature(CallbackError):
    status = 403


class StaleTimestamp(CallbackError):
    status = 403


class BodyTooLarge(CallbackError):
    status = 413


class MalformedMessage(CallbackError):
    status = 400


class DecryptError(CallbackError):
    status = 400
