from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
import requests
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState, route_to_fake

from .conftest import AGENTID, CORPID, CORPSECRET, ROBOT_KEY, ManualClock

ROBOT = "/cgi-bin/webhook/send"


def test_app_message_reaches_officers_and_long_text_is_cut(
    wecom_client: WeComClient, state: FakeWeChatState
) -> None:
    answer = wecom_client.message.send_text(AGENTID, ["zhangsan", "lisi"], "新线索：城南派出所辖区")
    assert answer["errcode"] == 0 and answer["invaliduser"] == ""
    [delivery] = state.delivered("wecom_app", "lisi")
    assert delivery.recipients == ("zhangsan", "lisi")
    wecom_client.message.send_text(
        AGENTID, "zhangsan", "a" + "线" * 700
    )  # 2101 bytes: WeCom cuts, not refuses
    cut = state.delivered("wecom_app")[-1].payload["text"]["content"]
    assert cut == "a" + "线" * 682 and len(cut.encode()) == 2047  # never splits a character
    assert state.token_fetches(CORPID) == 1


def test_app_message_checks_agent_and_recipients(wecom_client: WeComClient) -> None:
    with pytest.raises(WeChatClientException) as wrong_agent:
        wecom_client.message.send_text(9999, "zhangsan", "hi")
    assert wrong_agent.value.errcode == 40056
    with pytest.raises(WeChatClientException) as nobody:
        wecom_client.message.send_text(AGENTID, [], "hi")
    assert nobody.value.errcode == 81013


def test_appchat_create_send_get(wecom_client: WeComClient, state: FakeWeChatState) -> None:
    chatid = wecom_client.appchat.create(
        name="城南所值班群", owner="zhangsan", user_list=["zhangsan", "lisi"]
    )["chatid"]
    wecom_client.appchat.send_text(chatid, "今日通告已发布")
    info = wecom_client.appchat.get(chatid)
    assert info["name"] == "城南所值班群" and info["userlist"] == ["zhangsan", "lisi"]
    [delivery] = state.delivered("appchat", chatid)
    assert (
        delivery.recipients == ("zhangsan", "lisi")
        and delivery.payload["text"]["content"] == "今日通告已发布"
    )


def test_appchat_errors(wecom_client: WeComClient, state: FakeWeChatState, fake: FakeWeChatServer) -> None:
    def errcode(call: Callable[[], object]) -> int:
        with pytest.raises(WeChatClientException) as caught:
            call()
        return int(caught.value.errcode)

    assert errcode(lambda: wecom_client.appchat.send_text("nosuchchat", "hi")) == 86003
    assert errcode(lambda: wecom_client.appchat.create(user_list=["only-one"])) == 86006
    assert errcode(lambda: wecom_client.appchat.create(chat_id="bad id!", user_list=["a", "b"])) == 86001
    wecom_client.appchat.create(chat_id="duty1", user_list=["a", "b"])
    assert errcode(lambda: wecom_client.appchat.create(chat_id="duty1", user_list=["a", "b"])) == 86215
    # another app of the same corp does not see chats it did not create
    state.register_corp(CORPID, "other-app-secret-0000000000000", 1000003)
    other = WeComClient(CORPID, "other-app-secret-0000000000000", auto_retry=False, timeout=5)
    route_to_fake(other._http, fake.url)
    assert errcode(lambda: other.appchat.get("duty1")) == 86003


def test_customer_group_task(wecom_client: WeComClient, state: FakeWeChatState, clock: ManualClock) -> None:
    task = {"chat_type": "group", "sender": "zhangsan", "text": {"content": "请转发防疫通告"}}
    answer = wecom_client.external_contact.add_msg_template(task)
    assert answer["errcode"] == 0 and answer["fail_list"] == [] and answer["msgid"].startswith("msg")
    assert state.delivered("group_task", "zhangsan")[0].payload["msgid"] == answer["msgid"]
    for _ in range(3):
        wecom_client.external_contact.add_msg_template(task)
    with pytest.raises(WeChatClientException) as over:
        wecom_client.external_contact.add_msg_template(task)
    assert over.value.errcode == 45009
    with pytest.raises(WeChatClientException) as no_sender:
        wecom_client.external_contact.add_msg_template({"chat_type": "group", "text": {"content": "x"}})
    assert no_sender.value.errcode == 40058


def robot(
    http: requests.Session, fake: FakeWeChatServer, body: dict[str, object], key: str = ROBOT_KEY
) -> int:
    answer = http.post(fake.url + ROBOT, params={"key": key}, json=body, timeout=5).json()
    return int(answer["errcode"])


def text(content: str) -> dict[str, object]:
    return {"msgtype": "text", "text": {"content": content}}


def markdown(content: str) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"content": content}}


def test_robot_byte_limits_count_utf8(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState
) -> None:
    assert robot(http, fake, text("通" * 682 + "ok")) == 0  # 2048 bytes
    assert robot(http, fake, text("通" * 683)) == 40058  # 2049 bytes, though only 683 characters
    notice = "# 通告\n" + "告" * 1362 + "!"
    assert len(notice.encode()) == 4096
    assert robot(http, fake, markdown(notice)) == 0
    assert robot(http, fake, markdown(notice + "!")) == 40058
    assert robot(http, fake, text("")) == 44004
    assert len(state.delivered("robot", ROBOT_KEY)) == 2


def test_robot_twenty_per_minute(
    fake: FakeWeChatServer, http: requests.Session, clock: ManualClock, state: FakeWeChatState
) -> None:
    assert [robot(http, fake, text(f"第{i}条")) for i in range(21)] == [0] * 20 + [45009]
    clock.advance(59)
    assert robot(http, fake, text("仍在限制内")) == 45009
    clock.advance(1)
    assert robot(http, fake, text("新的一分钟")) == 0
    assert robot(http, fake, text("x"), key="unknown-key") == 93000
    assert len(state.delivered("robot")) == 21


def test_robot_image_news_and_file(fake: FakeWeChatServer, http: requests.Session) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    image = {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}
    assert robot(http, fake, {"msgtype": "image", "image": image}) == 0
    assert robot(http, fake, {"msgtype": "image", "image": {**image, "md5": "0" * 32}}) == 40058
    article = {"title": "通告", "url": "https://example.org/a/x"}
    assert robot(http, fake, {"msgtype": "news", "news": {"articles": [article] * 8}}) == 0
    assert robot(http, fake, {"msgtype": "news", "news": {"articles": [article] * 9}}) == 40058
    upload = http.post(
        fake.url + "/cgi-bin/webhook/upload_media",
        params={"key": ROBOT_KEY, "type": "file"},
        files={"media": ("通告.pdf", b"%PDF-1.4 fake", "application/pdf")},
        timeout=5,
    ).json()
    assert upload["errcode"] == 0
    assert robot(http, fake, {"msgtype": "file", "file": {"media_id": upload["media_id"]}}) == 0
    assert robot(http, fake, {"msgtype": "file", "file": {"media_id": "missing"}}) == 40007


def test_robot_registry_answers_for_keys_registered_elsewhere(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState
) -> None:
    asked: list[str] = []

    def registry(key: str) -> bool:
        asked.append(key)
        return key == "added-later-robot-key"

    state.robot_registry = registry
    assert robot(http, fake, text("新群"), key="added-later-robot-key") == 0
    assert robot(http, fake, text("再发一条"), key="added-later-robot-key") == 0  # remembered
    assert robot(http, fake, text("x"), key="nobody-registered-this") == 93000
    assert robot(http, fake, text("x"), key="") == 93000
    assert robot(http, fake, text("原有的群")) == 0  # registered keys need no lookup
    assert asked == ["added-later-robot-key", "nobody-registered-this"]
    assert len(state.delivered("robot", "added-later-robot-key")) == 2


def test_wecom_token_is_not_accepted_by_the_official_account_api(
    fake: FakeWeChatServer, http: requests.Session
) -> None:
    params = {"corpid": CORPID, "corpsecret": CORPSECRET}
    token = http.get(fake.url + "/cgi-bin/gettoken", params=params, timeout=5).json()["access_token"]
    answer = http.get(
        fake.url + "/cgi-bin/user/info", params={"access_token": token, "openid": "o"}, timeout=5
    )
    assert answer.json()["errcode"] == 40001
