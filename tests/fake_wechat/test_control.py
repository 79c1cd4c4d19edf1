from __future__ import annotations

from typing import Any

import pytest
import requests

from bot.fake_wechat import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_CORP_ID,
    DEFAULT_CORP_SECRET,
    FakeWeChatServer,
    FakeWeChatState,
    build_state,
    create_fake_wechat_app,
)

from .conftest import APPID, START, ManualClock, fetch_token, post, text_message

CUSTOM = "/cgi-bin/message/custom/send"


def control(http: requests.Session, fake: FakeWeChatServer, method: str, path: str, **kw: Any) -> Any:
    response = http.request(method, fake.url + "/_fake" + path, timeout=5, **kw)
    response.raise_for_status()
    return response.json()


def test_drive_a_conversation_through_the_control_api(
    fake: FakeWeChatServer, http: requests.Session, token: str
) -> None:
    control(http, fake, "POST", "/followers", json={"openid": "o-c", "nickname": "赵六", "tags": [2]})
    assert post(http, fake, CUSTOM, token, text_message("o-c"))["errcode"] == 45015
    window = control(http, fake, "POST", "/interactions", json={"openid": "o-c"})["window"]
    assert window["used"] == 0 and window["expires_at"] == START + 48 * 3600
    assert post(http, fake, CUSTOM, token, text_message("o-c", "请完成今日打卡"))["errcode"] == 0
    delivered = control(http, fake, "GET", "/delivered", params={"kind": "custom", "target": "o-c"})[
        "delivered"
    ]
    assert [d["payload"]["text"]["content"] for d in delivered] == ["请完成今日打卡"]
    calls = control(http, fake, "GET", "/calls", params={"endpoint": "message/custom/send"})["calls"]
    assert [c["errcode"] for c in calls] == [45015, 0]
    assert calls[1]["json"]["touser"] == "o-c" and calls[1]["params"]["access_token"] == token
    assert calls[1]["method"] == "POST" and calls[1]["at"] == START


def test_calls_are_recorded_with_the_injected_clock(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState, clock: ManualClock
) -> None:
    clock.advance(42)
    fetch_token(http, fake)
    [call] = state.calls("/cgi-bin/token")
    assert call.at == START + 42 and call.errcode == 0 and call.params["appid"] == APPID and call.json is None


def test_stats_clock_reset_and_registration(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState
) -> None:
    control(http, fake, "POST", "/apps", json={"appid": "wx-second", "secret": "s2"})
    control(http, fake, "POST", "/corps", json={"corpid": "ww-second", "secret": "cs2", "agentid": 1000005})
    control(http, fake, "POST", "/robots", json={"key": "k2"})
    control(http, fake, "POST", "/templates", json={"template_id": "tpl-2"})
    control(http, fake, "POST", "/followers", json={"openid": "o-1"})
    token = fetch_token(http, fake)
    stats = control(http, fake, "GET", "/stats")
    assert stats["token_fetches"] == 1 and stats["followers"] == 1 and stats["calls"] == 1
    assert stats["token_fetches_by_endpoint"] == {"/cgi-bin/token": 1}
    assert control(http, fake, "POST", "/clock", json={"advance": 60})["now"] == START + 60
    control(http, fake, "POST", "/invalidate-tokens")
    answer = http.get(
        fake.url + "/cgi-bin/user/info", params={"access_token": token, "openid": "o-1"}, timeout=5
    )
    assert answer.json()["errcode"] == 40001
    control(http, fake, "POST", "/reset")
    after = control(http, fake, "GET", "/stats")
    assert after["calls"] == 0 and after["followers"] == 0 and after["now"] == START
    assert state.apps["wx-second"] == "s2" and "k2" in state.robot_keys and "tpl-2" in state.templates
    assert state.corps["ww-second"].secrets == {"cs2": 1000005}


def test_control_api_rejects_bad_input(fake: FakeWeChatServer, http: requests.Session) -> None:
    for path, body in [
        ("/followers", {"nickname": "no openid"}),
        ("/followers", {"openid": "o", "tags": ["x"]}),
        ("/clock", {"advance": "soon"}),
        ("/apps", [1, 2]),
    ]:
        response = http.post(fake.url + "/_fake" + path, json=body, timeout=5)
        assert response.status_code == 400 and response.json()["ok"] is False
    assert http.get(fake.url + "/_fake/delivered", params={"kind": "sms"}, timeout=5).status_code == 400


def test_app_without_a_server() -> None:
    """create_fake_wechat_app also works in-process, e.g. under Flask's test client."""
    state = FakeWeChatState()
    state.register_app("wx-inproc", "secret")
    client = create_fake_wechat_app(state).test_client()
    answer = client.get(
        "/cgi-bin/token?grant_type=client_credential&appid=wx-inproc&secret=secret"
    ).get_json()
    assert answer["expires_in"] == 7200
    assert client.get("/_fake/stats").get_json()["token_fetches"] == 1


def test_server_lifecycle_and_default_credentials() -> None:
    server = FakeWeChatServer(build_state(robot_keys=("k1",), template_ids=("tpl",)))
    with pytest.raises(RuntimeError):
        _ = server.url
    with server, requests.Session() as http:
        params = {"grant_type": "client_credential", "appid": DEFAULT_APP_ID, "secret": DEFAULT_APP_SECRET}
        assert "access_token" in http.get(server.url + "/cgi-bin/token", params=params, timeout=5).json()
        params = {"corpid": DEFAULT_CORP_ID, "corpsecret": DEFAULT_CORP_SECRET}
        assert http.get(server.url + "/cgi-bin/gettoken", params=params, timeout=5).json()["errcode"] == 0
        assert server.state.robot_keys == {"k1"} and server.state.templates == {"tpl"}
    server.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError):
        _ = server.url
