from __future__ import annotations

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState

from .conftest import APPID, CORPID, CORPSECRET, SECRET, FakeOAClient, ManualClock

TOKEN_PARAMS = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


def fetch(http: requests.Session, fake: FakeWeChatServer, **params: str) -> dict[str, object]:
    result: dict[str, object] = http.get(
        fake.url + "/cgi-bin/token", params={**TOKEN_PARAMS, **params}, timeout=5
    ).json()
    return result


def errcode_with(http: requests.Session, fake: FakeWeChatServer, token: str | None) -> int:
    params = {"openid": "o-nobody"} | ({"access_token": token} if token is not None else {})
    return int(http.get(fake.url + "/cgi-bin/user/info", params=params, timeout=5).json()["errcode"])


def test_token_is_issued_like_wechat(fake: FakeWeChatServer, http: requests.Session) -> None:
    answer = fetch(http, fake)
    assert set(answer) == {"access_token", "expires_in"}  # no errcode on success, as WeChat answers
    assert answer["expires_in"] == 7200
    assert errcode_with(http, fake, str(answer["access_token"])) == 40003  # accepted: the openid is unknown


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"appid": "wx-unknown"}, 40013),
        ({"secret": "wrong"}, 40125),
        ({"grant_type": "password"}, 40002),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
    ],
)
def test_bad_credentials(
    fake: FakeWeChatServer, http: requests.Session, params: dict[str, str], errcode: int
) -> None:
    assert fetch(http, fake, **params)["errcode"] == errcode


def test_missing_malformed_and_unknown_tokens(fake: FakeWeChatServer, http: requests.Session) -> None:
    assert errcode_with(http, fake, None) == 41001
    assert errcode_with(http, fake, "not a token!") == 40014
    assert errcode_with(http, fake, "A" * 120) == 40001


def test_new_token_retires_the_old_one_after_five_minutes(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock
) -> None:
    old = str(fetch(http, fake)["access_token"])
    clock.advance(60)
    new = str(fetch(http, fake)["access_token"])
    assert new != old
    clock.advance(299)
    assert errcode_with(http, fake, old) == 40003
    clock.advance(2)
    assert errcode_with(http, fake, old) == 40001
    assert errcode_with(http, fake, new) == 40003


def test_token_expires_after_7200_seconds(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock
) -> None:
    token = str(fetch(http, fake)["access_token"])
    clock.advance(7199)
    assert errcode_with(http, fake, token) == 40003
    clock.advance(1)
    assert errcode_with(http, fake, token) == 42001


def test_invalidated_tokens_answer_40001(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState
) -> None:
    token = str(fetch(http, fake)["access_token"])
    state.invalidate_tokens()
    assert errcode_with(http, fake, token) == 40001
    assert errcode_with(http, fake, str(fetch(http, fake)["access_token"])) == 40003


def test_daily_token_quota(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState, clock: ManualClock
) -> None:
    state.limits.token_daily = 2
    fetch(http, fake)
    fetch(http, fake)
    assert fetch(http, fake)["errcode"] == 45009
    clock.advance(86400)
    assert "access_token" in fetch(http, fake)
    assert state.token_fetches(APPID) == 3  # refused fetches are not counted


def stable(http: requests.Session, fake: FakeWeChatServer, **extra: object) -> dict[str, object]:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **extra}
    result: dict[str, object] = http.post(fake.url + "/cgi-bin/stable_token", json=body, timeout=5).json()
    return result


def test_stable_token_is_shared_and_isolated_from_token(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock, state: FakeWeChatState
) -> None:
    first = stable(http, fake)
    clock.advance(100)
    second = stable(http, fake)
    assert first["access_token"] == second["access_token"]
    assert second["expires_in"] == 7100
    fetch(http, fake)  # a /cgi-bin/token fetch does not retire the stable token
    clock.advance(600)
    assert errcode_with(http, fake, str(first["access_token"])) == 40003
    assert state.token_fetches(endpoint="stable_token") == 2
    assert state.token_fetches(endpoint="/cgi-bin/token") == 1


def test_stable_token_renews_near_expiry_and_on_force_refresh(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock, state: FakeWeChatState
) -> None:
    first = stable(http, fake)["access_token"]
    clock.advance(7200 - 200)  # inside the last five minutes: a fresh token is handed out
    second = stable(http, fake)["access_token"]
    assert second != first
    state.limits.stable_force_refresh_daily = 1
    third = stable(http, fake, force_refresh=True)["access_token"]
    assert third not in (first, second)
    assert stable(http, fake, force_refresh=True)["errcode"] == 45009
    assert stable(http, fake, secret="wrong")["errcode"] == 40125


def test_wecom_gettoken_returns_the_same_token_while_valid(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock
) -> None:
    def gettoken(secret: str = CORPSECRET, corpid: str = CORPID) -> dict[str, object]:
        params = {"corpid": corpid, "corpsecret": secret}
        result: dict[str, object] = http.get(fake.url + "/cgi-bin/gettoken", params=params, timeout=5).json()
        return result

    first = gettoken()
    assert first["errcode"] == 0 and first["expires_in"] == 7200
    clock.advance(1000)
    again = gettoken()
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 6200
    clock.advance(6200)
    assert gettoken()["access_token"] != first["access_token"]
    assert gettoken(secret="wrong")["errcode"] == 40001
    assert gettoken(corpid="ww-unknown")["errcode"] == 40013


def test_wechatpy_subclass_reaches_the_fake_and_sees_40001(
    oa_client: FakeOAClient, state: FakeWeChatState
) -> None:
    state.add_follower("o-zhang", nickname="张三")
    assert oa_client.user.get("o-zhang")["nickname"] == "张三"
    state.invalidate_tokens()
    with pytest.raises(WeChatClientException) as caught:
        oa_client.user.get("o-zhang")  # auto_retry=False: the client does not loop on 40001
    assert caught.value.errcode == 40001
    assert state.token_fetches(APPID) == 1
