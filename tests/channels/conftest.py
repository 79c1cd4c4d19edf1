"""A live fake WeChat per test, a Runtime pointed at it, and the token store and channels over it.

``rt`` is parametrised over SQLite and PostgreSQL, so every test here exercises the token store on both.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.channels import build_channels
from bot.channels.base import Channel
from bot.channels.tokens import TokenStore, oa_key, wecom_key
from bot.config import Settings, WeChatSettings, WeComSettings, replace
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.runtime import Runtime

APPID, APP_SECRET = WeChatSettings.app_id, WeChatSettings.app_secret
CORPID, CORP_SECRET, AGENTID = WeComSettings.corp_id, WeComSettings.secret, WeComSettings.agent_id
TEMPLATE_ID = WeChatSettings.checkin_template_id
OA_KEY, WECOM_KEY = oa_key(APPID), wecom_key(CORPID, AGENTID)
ROBOT_KEY = "3f1e2d4c-0b9a-4c8d-9e7f-lanxi-robot-01"
OPENID = "oLanxiResident0000000000001"
TIMEOUT = 2.0


def pointed_at(settings: Settings, url: str, timeout: float = TIMEOUT) -> Settings:
    """``settings`` with every WeChat base URL at ``url``."""
    return replace(
        settings,
        wechat={"api_base_url": url, "open_base_url": url, "http_timeout": timeout},
        wecom={"api_base_url": url},
    )


def runtime_at(rt: Runtime, url: str, timeout: float = TIMEOUT) -> Runtime:
    return Runtime(pointed_at(rt.settings, url, timeout), rt.engine, rt.sessions)


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def state() -> FakeWeChatState:
    state = FakeWeChatState()
    state.register_app(APPID, APP_SECRET)
    state.register_corp(CORPID, CORP_SECRET, AGENTID)
    state.register_robot(ROBOT_KEY)
    state.register_template(TEMPLATE_ID)
    return state


@pytest.fixture
def fake(state: FakeWeChatState) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(state) as server:
        yield server


@pytest.fixture
def crt(rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    """The test's Runtime (rolled back afterwards) with WeChat at the fake."""
    return runtime_at(rt, fake.url)


@pytest.fixture
def tokens(crt: Runtime) -> Iterator[TokenStore]:
    store = TokenStore(crt)
    yield store
    store.close()


@pytest.fixture
def channels(crt: Runtime, tokens: TokenStore) -> dict[str, Channel]:
    return build_channels(crt, tokens)


@pytest.fixture
def follower(state: FakeWeChatState) -> str:
    """A follower who has just written to the account: the customer-service window is open."""
    state.user_interaction(OPENID)
    return OPENID
