"""Plain records the fake keeps: what was called, what was delivered, who follows, what was uploaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Delivery kinds, as accepted by `FakeWeChatState.delivered(kind)`.
CUSTOM = "custom"
TEMPLATE = "template"
MASS = "mass"
WECOM_APP = "wecom_app"
APPCHAT = "appchat"
ROBOT = "robot"
GROUP_TASK = "group_task"
DELIVERY_KINDS = (CUSTOM, TEMPLATE, MASS, WECOM_APP, APPCHAT, ROBOT, GROUP_TASK)


@dataclass(frozen=True)
class Call:
    """One request the fake answered (or was told to fail)."""

    endpoint: str
    method: str
    params: dict[str, str]
    json: Any
    errcode: int | None  # None when the answer was not WeChat JSON (5xx, PNG, redirect, timeout)
    at: float
    http_status: int = 200
    # The answer was held back (a `timeout` or `late` fault), so the client's own timeout fired first;
    # with `late` the call was carried out all the same (errcode 0: a message went).
    held: bool = False


@dataclass(frozen=True)
class Delivery:
    """A message WeChat accepted. `target` is what the sender addressed (openid, tag id or "all", chatid,
    robot key, sender userid); `recipients` are the people it reached, when the fake knows them."""

    kind: str
    target: str
    payload: dict[str, Any]
    at: float
    msgid: str
    recipients: tuple[str, ...] = ()


@dataclass
class Follower:
    openid: str
    nickname: str = ""
    subscribed: bool = True
    tags: tuple[int, ...] = ()
    subscribe_time: float = 0.0


@dataclass
class ServiceWindow:
    """The customer-service window a user's interaction opens."""

    expires_at: float
    used: int = 0


@dataclass(frozen=True)
class Fault:
    endpoint: str  # a normalised path, or "*" for every WeChat endpoint
    errcode: int | None = None
    http_status: int | None = None
    latency_ms: int = 0
    times: int | None = 1  # None: every call until cleared
    timeout: bool = False  # hang until released, so the client's own timeout fires
    late: bool = False  # carry the call out, then hang: WeChat acted but the client never hears of it
    touser: str | None = None  # only calls whose JSON body addresses this recipient


@dataclass(frozen=True)
class Media:
    media_id: str
    type: str
    data: bytes
    content_type: str
    filename: str
    created_at: float


@dataclass(frozen=True)
class QrCode:
    ticket: str
    action_name: str
    scene: int | str
    url: str
    created_at: float
    expires_at: float | None  # None for permanent (QR_LIMIT_*) codes


@dataclass
class OAuthCode:
    code: str
    appid: str
    openid: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class AppChat:
    chatid: str
    name: str
    owner: str
    userlist: tuple[str, ...]
    corpid: str
    agentid: int | None


@dataclass(frozen=True)
class Caller:
    """Whom an access_token belongs to."""

    kind: Literal["oa", "wecom"]
    owner: str  # appid or corpid
    agentid: int | None = None


@dataclass
class Corp:
    corpid: str
    secrets: dict[str, int] = field(default_factory=dict)  # app secret -> agentid
