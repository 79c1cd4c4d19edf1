"""A local stand-in for WeChat's API servers (Official Account, WeCom, web authorization).

Use `FakeWeChatServer` in tests, `create_fake_wechat_app` to mount it elsewhere,
`main` for `lanxi fake-wechat`.
"""

from __future__ import annotations

from .errors import WeChatError
from .limits import Limits
from .records import Call, Delivery, Fault, Follower, QrCode
from .redirect import RedirectAdapter, route_to_fake
from .server import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_CORP_ID,
    DEFAULT_CORP_SECRET,
    DEFAULT_PORT,
    FakeWeChatServer,
    build_state,
    configured_state,
    create_fake_wechat_app,
    main,
)
from .state import DEFAULT_AGENT_ID, FakeWeChatState

__all__ = [
    "DEFAULT_AGENT_ID",
    "DEFAULT_APP_ID",
    "DEFAULT_APP_SECRET",
    "DEFAULT_CORP_ID",
    "DEFAULT_CORP_SECRET",
    "DEFAULT_PORT",
    "Call",
    "Delivery",
    "FakeWeChatServer",
    "FakeWeChatState",
    "Fault",
    "Follower",
    "Limits",
    "QrCode",
    "RedirectAdapter",
    "WeChatError",
    "build_state",
    "configured_state",
    "create_fake_wechat_app",
    "main",
    "route_to_fake",
]
