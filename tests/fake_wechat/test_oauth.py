from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState

from .conftest import APPID, SECRET, ManualClock

AUTHORIZE = "/connect/oauth2/authorize"
CALLBACK = "https://lanxi.example.org/h5/checkin?day=2023-11-15"


def authorize(
    http: requests.Session, fake: FakeWeChatServer, appid: str = APPID, **extra: str
) -> requests.Response:
    params = {
        "appid": appid,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "s1",
        **extra,
    }
    return http.get(fake.url + AUTHORIZE, params=params, allow_redirects=False, timeout=5)


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert (
        location.netloc == "lanxi.example.org" and query["day"] == ["2023-11-15"] and query["state"] == ["s1"]
    )
    return query["code"][0]


def exchange(http: requests.Session, fake: FakeWeChatServer, code: str) -> dict[str, object]:
    params = {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"}
    result: dict[str, object] = http.get(
        fake.url + "/sns/oauth2/access_token", params=params, timeout=5
    ).json()
    return result


def test_code_flow_by_query_param(fake: FakeWeChatServer, http: requests.Session) -> None:
    code = code_from(authorize(http, fake, fake_openid="o-resident-1"))
    answer = exchange(http, fake, code)
    assert answer["openid"] == "o-resident-1" and answer["scope"] == "snsapi_base" and "errcode" not in answer
    assert exchange(http, fake, code)["errcode"] == 40163  # a code works once
    assert exchange(http, fake, "made-up")["errcode"] == 40029


def test_code_flow_by_cookie_with_wechatpy(fake: FakeWeChatServer, http: requests.Session) -> None:
    http.cookies.set("fake_openid", "o-resident-2")
    code = code_from(authorize(http, fake))
    oauth = WeChatOAuth(APPID, SECRET, CALLBACK)
    oauth.API_BASE_URL = fake.url + "/"
    assert oauth.fetch_access_token(code)["openid"] == "o-resident-2"
    with pytest.raises(WeChatOAuthException) as caught:
        oauth.fetch_access_token(code)
    assert caught.value.errcode == 40163


def test_code_expires_after_five_minutes(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock
) -> None:
    code = code_from(authorize(http, fake, fake_openid="o-late"))
    clock.advance(301)
    assert exchange(http, fake, code)["errcode"] == 40029


def test_authorize_refusals(fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState) -> None:
    outside = authorize(http, fake)
    assert outside.status_code == 400 and "请在微信客户端打开链接" in outside.text
    assert authorize(http, fake, appid="wx-other", fake_openid="o").json()["errcode"] == 40013
    assert authorize(http, fake, scope="snsapi_login", fake_openid="o").json()["errcode"] == 10005
    state.register_app("wx-other", "other-secret")
    code = code_from(authorize(http, fake, appid="wx-other", fake_openid="o"))
    assert exchange(http, fake, code)["errcode"] == 40029  # issued to another app
