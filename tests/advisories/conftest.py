"""Advisory tests: a live fake WeChat with robots, app chats and followers, and a Runtime pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from bot.channels import build_channels
from bot.channels.base import Channel
from bot.channels.tokens import TokenStore
from bot.config import WeChatSettings, WeComSettings, replace
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.fake_wechat.records import AppChat
from bot.runtime import Runtime
from bot.services import staff

ROBOT_KEY = "3f1e2d4c-0b9a-4c8d-9e7f-lanxi-robot-01"
OTHER_ROBOT_KEY = "5a6b7c8d-1e2f-4a3b-8c9d-lanxi-robot-02"
CHAT_ID = "lanxichat0001"
TAG_ID = 101
FOLLOWERS = ("oLanxiFollower0001", "oLanxiFollower0002")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests create many staff accounts; production-strength Argon2 would make them slow."""
    monkeypatch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def fake_state() -> FakeWeChatState:
    state = FakeWeChatState()
    state.register_app(WeChatSettings.app_id, WeChatSettings.app_secret)
    state.register_corp(WeComSettings.corp_id, WeComSettings.secret, WeComSettings.agent_id)
    state.register_robot(ROBOT_KEY)
    state.register_robot(OTHER_ROBOT_KEY)
    state.chats[CHAT_ID] = AppChat(
        CHAT_ID,
        "城关镇防控群",
        "zhangsan",
        ("zhangsan", "lisi"),
        WeComSettings.corp_id,
        WeComSettings.agent_id,
    )
    for openid in FOLLOWERS:
        state.add_follower(openid, tags=[TAG_ID])
    return state


@pytest.fixture
def fake(fake_state: FakeWeChatState) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(fake_state) as server:
        yield server


@pytest.fixture
def wrt(rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    """The test's Runtime with WeChat and WeCom at the fake."""
    url = fake.url
    settings = replace(
        rt.settings,
        wechat={"api_base_url": url, "open_base_url": url, "http_timeout": 2.0},
        wecom={"api_base_url": url},
        web={"public_base_url": "https://lanxi.example.cn"},
    )
    return Runtime(settings, rt.engine, rt.sessions)


@pytest.fixture
def channels(wrt: Runtime) -> Iterator[dict[str, Channel]]:
    tokens = TokenStore(wrt)
    yield build_channels(wrt, tokens)
    tokens.close()
