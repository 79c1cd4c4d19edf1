"""WeCom group robots: ``POST {api_base_url}/cgi-bin/webhook/send?key=KEY``, no access token.

Not in wechatpy: plain HTTP through ``bot.channels.http``. The webhook key is the credential, so it
is masked like a token wherever a URL could be logged. Text and markdown over WeCom's byte limits are
refused here, before sending, with a message saying by how many bytes (UTF-8: a Chinese character
takes three).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.base import DeliveryError, SendResult
from bot.channels.http import WeChatHttp
from bot.channels.payloads import message_part, require_recipient, utf8_len

# msgtype -> (byte limit of its content, how to name it in the error)
BYTE_LIMITS: Mapping[str, tuple[int, str]] = {
    "text": (2048, "文本"),
    "markdown": (4096, "Markdown"),
    "markdown_v2": (4096, "Markdown"),
}


def check_size(msgtype: str, content: Mapping[str, Any]) -> None:
    """Permanent DeliveryError when a text or markdown message is over its byte limit."""
    if msgtype not in BYTE_LIMITS:
        return
    limit, label = BYTE_LIMITS[msgtype]
    size = utf8_len(str(content.get("content", "")))
    if size > limit:
        over = f"群机器人{label}消息超出 {limit} 字节上限 {size - limit} 字节"
        raise DeliveryError(f"{over}（共 {size} 字节，一个汉字占 3 字节）", transient=False)


class GroupRobotChannel:
    """A message into the WeChat Work group the robot was added to: recipient = the webhook key."""

    name = "wecom_robot"

    def __init__(self, http: WeChatHttp, api_base_url: str) -> None:
        self._http = http
        self._url = api_base_url.rstrip("/") + "/cgi-bin/webhook/send"

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        msgtype, content = message_part(payload)
        check_size(msgtype, content)
        self._http.call("POST", self._url, params={"key": require_recipient(recipient)}, body=payload)
        return SendResult()
