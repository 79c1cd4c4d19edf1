"""Masking of ID and phone numbers before they appear in any message or report text."""

from __future__ import annotations

import re

# Seven or more digits in a row may be an ID or phone number typed into any column.
_DIGIT_RUN = re.compile(r"\d{7,}[Xx]?")
_MAX_SHOWN = 40


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters kept (330781********1234); short values keep only 2."""
    if len(value) >= 11:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return value[:2] + "*" * max(len(value) - 2, 0)


def mask_phone(value: str) -> str:
    """First 3 and last 4 characters kept (138****1234)."""
    if len(value) >= 8:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[:1] + "*" * max(len(value) - 1, 0)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return mask_id_number(run) if len(run) >= 15 else mask_phone(run)


def mask_text(value: str) -> str:
    """Mask every long digit run in free text and shorten it for display."""
    masked = _DIGIT_RUN.sub(_mask_run, value.strip())
    if len(masked) > _MAX_SHOWN:
        return masked[:_MAX_SHOWN] + "…"
    return masked


def mask_value(column: str, value: str) -> str:
    """Mask a cell value for display, by the canonical column it came from."""
    text = value.strip()
    if column == "身份证号":
        return mask_id_number(re.sub(r"\s+", "", text))
    if column == "手机号":
        return mask_phone(re.sub(r"\s+", "", text))
    return mask_text(text)
