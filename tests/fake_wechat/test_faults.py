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
    assert state.calls(USER_INFO)[0].errcode is None and state.calls(USER_INFO)[0].held


def test_late_fault_acts_then_answers_after_the_client_gave_up_for_the_chosen_recipient(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.add_follower("o-wang")
    for openid in ("o-li", "o-wang"):
        state.user_interaction(openid)  # opens the customer-service window

    def send(openid: str, timeout: float = 5) -> requests.Response:
        body = {"touser": openid, "msgtype": "text", "text": {"content": "今日请报平安"}}
        return http.post(
            f"{fake.url}/cgi-bin/message/custom/send",
            params={"access_token": token},
            json=body,
            timeout=timeout,
        )

    state.inject_fault("message/custom/send", late=True, touser="o-wang")
    assert send("o-li").json()["errcode"] == 0  # another recipient: not this fault's call
    with pytest.raises(requests.ReadTimeout):
        send("o-wang", timeout=0.2)
    assert [d.target for d in state.delivered("custom")] == ["o-li", "o-wang"]  # WeChat acted all the same
    state.release_hung()
    assert send("o-wang").json()["errcode"] == 0  # used up: the next call answers at once
    calls = [(c.json["touser"], c.errcode, c.held) for c in state.calls("message/custom/send")]
    assert calls == [("o-li", 0, False), ("o-wang", 0, True), ("o-wang", 0, False)]


def test_faults_over_the_control_api(fake: FakeWeChatServer, http: requests.Session, token: str) -> None:
    fault = {"endpoint": "/cgi-bin/user/info", "errcode": -1, "times": None}
    assert http.post(fake.url + "/_fake/faults", json=fault, timeout=5).json()["ok"] is True
    assert len(http.get(fake.url + "/_fake/faults", timeout=5).json()["faults"]) == 1
    assert user_info(http, fake, token).json()["errcode"] == -1
    assert user_info(http, fake, token).json()["errcode"] == -1
    http.delete(fake.url + "/_fake/faults", timeout=5)
    assert user_info(http, fake, token).json()["subscribe"] == 1
    late = {"endpoint": "message/custom/send", "late": True, "touser": "o-li"}
    added = http.post(fake.url + "/_fake/faults", json=late, timeout=5).json()["fault"]
    assert (added["endpoint"], added["late"], added["touser"]) == (
        "/cgi-bin/message/custom/send",
        True,
        "o-li",
    )
    http.delete(fake.url + "/_fake/faults", timeout=5)
    bad = http.post(fake.url + "/_fake/faults", json={"endpoint": "x", "times": 0}, timeout=5)
    assert bad.status_code == 400 and "times" in bad.json()["error"]
