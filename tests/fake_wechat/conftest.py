"""Fixtures for the fake WeChat's own tests: a manual clock, a registered state, a live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState, route_to_fake

APPID, SECRET = "wxtest000000000001", "test-app-secret-000000000000001"
CORPID, CORPSECRET, AGENTID = "wwtest000000000001", "test-corp-secret-00000000000001", 1000002
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
TEMPLATE_ID = "tpl-daily-checkin"
START = 1_700_000_000.0  # 2023-11-15 06:13 in Shanghai


class ManualClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeOAClient(WeChatClient):
    """wechatpy hard-codes https://api.weixin.qq.com/cgi-bin/token: fetch it from API_BASE_URL instead."""

    def fetch_access_token(self) -> Any:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return self._fetch_access_token(url=self.API_BASE_URL + "token", params=params)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> FakeWeChatState:
    state = FakeWeChatState(clock=clock)
    state.register_app(APPID, SECRET)
    state.register_corp(CORPID, CORPSECRET, AGENTID)
    state.register_robot(ROBOT_KEY)
    state.register_template(TEMPLATE_ID)
    return state


@pytest.fixture
def fake(state: FakeWeChatState) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(state) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def fetch_token(http: requests.Session, fake: FakeWeChatServer) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return str(http.get(fake.url + "/cgi-bin/token", params=params, timeout=5).json()["access_token"])


@pytest.fixture
def token(fake: FakeWeChatServer, http: requests.Session) -> str:
    return fetch_token(http, fake)


@pytest.fixture
def oa_client(fake: FakeWeChatServer) -> FakeOAClient:
    client = FakeOAClient(APPID, SECRET, auto_retry=False, timeout=5)
    client.API_BASE_URL = fake.url + "/cgi-bin/"
    return client


@pytest.fixture
def wecom_client(fake: FakeWeChatServer) -> WeComClient:
    """The other way in: leave wechatpy's URLs alone and redirect its HTTP session to the fake."""
    client = WeComClient(CORPID, CORPSECRET, auto_retry=False, timeout=5)
    route_to_fake(client._http, fake.url)
    return client


def post(http: requests.Session, fake: FakeWeChatServer, path: str, token: str, body: Any) -> dict[str, Any]:
    response = http.post(fake.url + path, params={"access_token": token}, json=body, timeout=5)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def text_message(openid: str, content: str = "您好") -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}
