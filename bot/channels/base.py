"""One Channel protocol for all outbound WeChat traffic, and how its failures are classified.

The outbox hands a channel a recipient and a JSON payload; the channel answers with a
``SendResult`` or raises ``DeliveryError``. Whether to retry is decided from the error's
``transient`` flag, never by parsing messages, so every channel classifies in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# WeChat errcodes that mean "try again later" (busy, rate limit) or "the token went stale".
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# The customer-service window is closed (45015) or used up (45047): a template message can still go.
WINDOW_ERRCODES = frozenset({45015, 45047})

ERRCODE_EXPLANATIONS_ZH: Mapping[int, str] = {
    -1: "微信系统繁忙",
    40001: "access_token 无效或已过期",
    40003: "openid 无效",
    40013: "AppID 无效",
    40014: "access_token 不合法",
    40037: "模板 ID 无效",
    40164: "调用接口的 IP 不在白名单中",
    42001: "access_token 已过期",
    43004: "用户未关注公众号",
    44002: "请求内容为空",
    45002: "消息内容超过长度限制",
    45009: "接口调用超过频率或额度限制",
    45015: "用户 48 小时内未互动，客服消息窗口已关闭",
    45047: "客服消息超过下发条数上限",
    47001: "请求格式错误",
    48001: "接口未授权",
    93000: "群机器人 webhook key 无效",
}


def explain(errcode: int | None, fallback: str = "") -> str:
    if errcode is None:
        return fallback or "网络或服务器错误"
    return ERRCODE_EXPLANATIONS_ZH.get(errcode, fallback or f"微信返回错误 {errcode}")


@dataclass(frozen=True)
class SendResult:
    msgid: str = ""
    detail: Mapping[str, Any] | None = None


class DeliveryError(Exception):
    """A send that did not go. ``transient`` errors are retried with backoff; others fail the row."""

    def __init__(
        self,
        message: str,
        *,
        errcode: int | None = None,
        http_status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.http_status = http_status
        self.transient = transient

    @property
    def window_closed(self) -> bool:
        return self.errcode in WINDOW_ERRCODES

    @property
    def explanation_zh(self) -> str:
        return explain(self.errcode, str(self))


def classify(errcode: int, errmsg: str) -> DeliveryError:
    """The DeliveryError for a WeChat JSON answer with a non-zero errcode."""
    return DeliveryError(
        f"errcode {errcode}: {errmsg}"[:200],
        errcode=errcode,
        transient=errcode in TRANSIENT_ERRCODES or errcode in TOKEN_ERRCODES,
    )


class Channel(Protocol):
    """Sends one outbox payload. Must be safe to call from several threads."""

    name: str

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult: ...
