"""Checks on outbox payloads shared by the channels: a malformed row fails for good, before any HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.base import DeliveryError


def malformed(reason: str) -> DeliveryError:
    return DeliveryError(f"消息格式错误：{reason}", transient=False)


def require_recipient(recipient: str) -> str:
    if not recipient or not recipient.strip():
        raise malformed("收件人为空")
    return recipient.strip()


def message_part(payload: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """``(msgtype, content)`` of a WeChat message such as ``{"msgtype": "text", "text": {...}}``."""
    msgtype = payload.get("msgtype")
    if not isinstance(msgtype, str) or not msgtype:
        raise malformed("缺少 msgtype")
    content = payload.get(msgtype)
    if not isinstance(content, Mapping):
        raise malformed(f"缺少 {msgtype} 内容")
    return msgtype, content


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
