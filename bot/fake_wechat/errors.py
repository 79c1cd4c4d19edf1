"""WeChat error codes the fake answers with, and the exception handlers raise to answer one."""

from __future__ import annotations

from typing import Any

# errcode -> WeChat's own errmsg, typos included (clients match on the code, people read the text)
ERRMSG: dict[int, str] = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40006: "invalid meida size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40056: "invalid agentid",
    40058: "invalid Request Parameter",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    41008: "missing code",
    41009: "missing openid",
    41011: "missing agentid",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "api freq out of limit",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45159: "invalid tag id",
    47001: "data format error",
    81013: "user & party & tag all invalid",
    86001: "invalid chatid",
    86003: "chat not exist",
    86006: "invalid chat member count",
    86215: "chatid already exists",
    93000: "invalid webhook url",
}


def errmsg(errcode: int) -> str:
    return ERRMSG.get(errcode, "system error")


class WeChatError(Exception):
    """Raised by a handler; the server turns it into WeChat's `{"errcode": ..., "errmsg": ...}` answer."""

    def __init__(self, errcode: int, detail: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = detail or errmsg(errcode)
        super().__init__(f"{errcode}: {self.errmsg}")

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


def ok(**fields: Any) -> dict[str, Any]:
    """WeChat's success envelope."""
    return {"errcode": 0, "errmsg": "ok", **fields}
