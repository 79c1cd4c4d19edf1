"""Masking identifiers that turn up in free text: messages, reasons typed by staff."""

from __future__ import annotations

import re

from bot.privacy import mask_id_number, mask_phone

# An ID number (15 or 18 characters) or a phone number (7+ digits) inside any text; digits
# glued to letters are left alone so tickets such as T20200215-0042 stay readable.
_IDENTIFIER = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|\d{15}|\d{7,14})(?![\dA-Za-z])")


def _mask(match: re.Match[str]) -> str:
    value = match.group(0)
    return mask_id_number(value) if len(value) >= 15 else mask_phone(value)


def mask_identifiers(text: str) -> str:
    """``text`` with every ID or phone number in it masked as the panel masks them."""
    return _IDENTIFIER.sub(_mask, text)
