from __future__ import annotations

import time

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState

from .conftest import FakeOAClient

USER_INFO = "/cgi-bin/user/info"


def user_info(
    http: requests.Session, fake: FakeWeChatServer, token: str, timeout: float = 5
) -> requests.Response:
    return http.get(fake.url + USER_INFO, params={"access_token": token, "openid": "o-li"}, timeout=timeout)


@pytest.fixture(autouse=True)
def follower(state: FakeWeChatState) -> None:
    state.add_follower("o-li", nickname="李四")


def test_errcode_fault_once_then_normal(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.inject_fault("user/info", errcode=-1)
    assert user_info(http, fake, token).json() == {"errcode": -1, "errmsg": "system error"}
    assert user_info(http, fake, token).json()["nickname"] == "李四"
    assert [c.errcode for c in state.calls("user/info")] == [-1, 0]


def test_fault_for_every_call_until_cleared(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.inject_fault("*", errcode=45009, times=None)
    assert user_info(http, fake, token).json()["errcode"] == 45009
    token_answer = http.get(
        fake.url + "/cgi-bin/token", params={"grant_type": "client_credential"}, timeout=5
    )
    assert token_answer.json()["errcode"] == 45009
    state.clear_faults()
    assert user_info(http, fake, token).json()["subscribe"] == 1


def test_counted_fault(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.inject_fault(USER_INFO, errcode=-1, times=2)
    assert [user_info(http, fake, token).json()["errcode"] for _ in range(2)] == [-1, -1]
    assert user_info(http, fake, token).json()["subscribe"] == 1


def test_http_status_fault_through_wechatpy(oa_client: FakeOAClient, state: FakeWeChatState) -> None:
    oa_client.user.get("o-li")  # fetch the token first, so the fault hits user/info
    state.inject_fault(USER_INFO, http_status=502)
    with pytest.raises(WeChatClientException) as caught:
        oa_client.user.get("o-li")
    assert caught.value.errcode is None and caught.value.response.status_code == 502
    assert state.calls(USER_INFO)[-1].http_status == 502
    assert oa_client.user.get("o-li")["nickname"] == "李四"


def test_latency(fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState) -> None:
    state.inject_fault(USER_INFO, latency_ms=150)
    started = time.monotonic()
    assert user_info(http, fake, token).json()["subscribe"] == 1
    assert time.monotonic() - started >= 0.15
    state.set_latency("*", 100)
    started = time.monotonic()
    user_info(http, fake, token)
    assert time.monotonic() - started >= 0.1
    state.set_latency("*", 0)
    started = time.monotonic()
    user_info(http, fake, token)
    assert time.monotonic() - started < 0.1


def test_timeout_fault_outlasts_the_client(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.inject_fault(USER_INFO, timeout=True)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        user_info(http, fake, token, timeout=0.2)
    state.clear_faults()  # lets the held request go
    assert time.monotonic() - started < 2
    assert user_info(http, fake, token).json()["subscribe"] == 1
    assert state.calls(USER_INFO)[0].errcode is None


def test_faults_over_the_control_api(fake: FakeWeChatServer, http: requests.Session, token: str) -> None:
    fault = {"endpoint": "/cgi-bin/user/info", "errcode": -1, "times": None}
    assert http.post(fake.url + "/_fake/faults", json=fault, timeout=5).json()["ok"] is True
    assert len(http.get(fake.url + "/_fake/faults", timeout=5).json()["faults"]) == 1
    assert user_info(http, fake, token).json()["errcode"] == -1
    assert user_info(http, fake, token).json()["errcode"] == -1
    http.delete(fake.url + "/_fake/faults", timeout=5)
    assert user_info(http, fake, token).json()["subscribe"] == 1
    bad = http.post(fake.url + "/_fake/faults", json={"endpoint": "x", "times": 0}, timeout=5)
    assert bad.status_code == 400 and "times" in bad.json()["error"]
