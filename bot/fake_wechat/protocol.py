"""What endpoint handlers receive and return, free of Flask so each handler is a plain function."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import WeChatError
from .records import Caller

if TYPE_CHECKING:
    from .state import FakeWeChatState


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Req:
    params: Mapping[str, str]
    raw: bytes = b""
    files: Mapping[str, Upload] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    caller: Caller | None = None

    def body(self) -> dict[str, Any]:
        """The JSON object posted, as WeChat reads it (whatever the Content-Type: wechatpy sends none)."""
        if not self.raw.strip():
            raise WeChatError(44002)
        try:
            data = json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WeChatError(47001) from exc
        if not isinstance(data, dict):
            raise WeChatError(47001)
        return data

    def need_caller(self) -> Caller:
        if self.caller is None:  # the route table guarantees a caller for authenticated endpoints
            raise WeChatError(41001)
        return self.caller


@dataclass(frozen=True)
class Raw:
    """A non-JSON answer: an image, a file, an HTML error page."""

    data: bytes
    content_type: str
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    location: str


Result = dict[str, Any] | Raw | Redirect
Handler = Callable[["FakeWeChatState", Req], Result]


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    auth: tuple[str, ...] = ()  # token kinds accepted ("oa", "wecom"); empty: no access_token needed


def text_field(data: Mapping[str, Any], name: str, errcode: int) -> str:
    """A required non-empty string field."""
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise WeChatError(errcode)
    return value


def section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A required JSON object field, e.g. `text` in `{"msgtype": "text", "text": {...}}`."""
    value = data.get(name)
    if not isinstance(value, dict):
        raise WeChatError(47001, f"data format error: {name} must be an object")
    return value


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, limit: int) -> str:
    """Cut to at most `limit` UTF-8 bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def param(req: Req, name: str, errcode: int) -> str:
    value = req.params.get(name, "")
    if not value:
        raise WeChatError(errcode)
    return value
