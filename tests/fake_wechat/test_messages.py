from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState

from .conftest import TEMPLATE_ID, FakeOAClient, ManualClock, fetch_token, post, text_message

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
MASS = "/cgi-bin/message/mass/sendall"


def custom(
    http: requests.Session, fake: FakeWeChatServer, token: str, openid: str, text: str = "您好"
) -> int:
    return int(post(http, fake, CUSTOM, token, text_message(openid, text))["errcode"])


def test_window_is_closed_until_the_user_writes(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.add_follower("o-li")
    assert custom(http, fake, token, "o-li") == 45015
    state.user_interaction("o-li")
    assert custom(http, fake, token, "o-li") == 0
    assert [d.payload["text"]["content"] for d in state.delivered("custom", "o-li")] == ["您好"]


def test_window_allows_five_messages_then_45047_until_renewed(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.user_interaction("o-wang")
    assert [custom(http, fake, token, "o-wang") for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    state.user_interaction("o-wang")
    assert custom(http, fake, token, "o-wang") == 0
    assert len(state.delivered("custom", "o-wang")) == 6


def test_window_closes_after_48_hours(
    fake: FakeWeChatServer, http: requests.Session, state: FakeWeChatState, clock: ManualClock
) -> None:
    state.user_interaction("o-zhao")
    clock.advance(48 * 3600 - 10)
    token = fetch_token(http, fake)
    assert custom(http, fake, token, "o-zhao") == 0
    clock.advance(10)
    assert custom(http, fake, token, "o-zhao") == 45015


def test_unfollowed_user_gets_nothing(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.user_interaction("o-gone")
    state.add_follower("o-gone", subscribed=False)
    assert custom(http, fake, token, "o-gone") == 43004
    assert custom(http, fake, token, "o-never-seen") == 43004


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (text_message("o-li", "测" * 683), 45002),  # 2049 bytes of UTF-8
        (text_message("o-li", ""), 44004),
        ({"touser": "o-li", "msgtype": "sms", "sms": {}}, 40008),
        ({"touser": "o-li", "msgtype": "image", "image": {"media_id": "nope"}}, 40007),
        ({"touser": "o-li", "msgtype": "text", "text": "plain"}, 47001),
        ({"msgtype": "text", "text": {"content": "hi"}}, 40003),
    ],
)
def test_custom_message_validation(
    fake: FakeWeChatServer,
    http: requests.Session,
    token: str,
    state: FakeWeChatState,
    body: dict[str, object],
    errcode: int,
) -> None:
    state.user_interaction("o-li")
    assert post(http, fake, CUSTOM, token, body)["errcode"] == errcode


def test_malformed_and_empty_bodies(fake: FakeWeChatServer, http: requests.Session, token: str) -> None:
    def raw(data: bytes) -> int:
        return int(
            http.post(fake.url + CUSTOM, params={"access_token": token}, data=data, timeout=5).json()[
                "errcode"
            ]
        )

    assert raw(b"") == 44002
    assert raw(b"{not json") == 47001
    assert raw(b"[1, 2]") == 47001


def test_custom_text_limit_counts_bytes_not_characters(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.user_interaction("o-li")
    assert custom(http, fake, token, "o-li", "测" * 682 + "ab") == 0  # exactly 2048 bytes


def test_wechatpy_custom_image_after_upload(oa_client: FakeOAClient, state: FakeWeChatState) -> None:
    state.user_interaction("o-li")
    media_id = oa_client.media.upload("image", ("notice.png", io.BytesIO(b"\x89PNG fake"), "image/png"))[
        "media_id"
    ]
    oa_client.message.send_image("o-li", media_id)
    with pytest.raises(WeChatClientException) as caught:
        oa_client.message.send_text("o-nobody", "hi")
    assert caught.value.errcode == 43004
    assert state.delivered("custom", "o-li")[0].payload["image"]["media_id"] == media_id


def test_template_message_starts_a_conversation(oa_client: FakeOAClient, state: FakeWeChatState) -> None:
    state.add_follower("o-li")
    data = {"thing1": {"value": "今日健康打卡"}, "time2": {"value": "2023-11-15 09:00"}}
    answer = oa_client.message.send_template("o-li", TEMPLATE_ID, data, url="https://example.org/h5/checkin")
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    [delivery] = state.delivered("template", "o-li")
    assert delivery.msgid == str(answer["msgid"]) and delivery.payload["data"] == data


@pytest.mark.parametrize(
    ("touser", "template_id", "errcode"),
    [("o-li", "tpl-unknown", 40037), ("o-li", "", 40037), ("o-stranger", TEMPLATE_ID, 43004)],
)
def test_template_rejections(
    fake: FakeWeChatServer,
    http: requests.Session,
    token: str,
    state: FakeWeChatState,
    touser: str,
    template_id: str,
    errcode: int,
) -> None:
    state.add_follower("o-li")
    body = {"touser": touser, "template_id": template_id, "data": {}}
    assert post(http, fake, TEMPLATE, token, body)["errcode"] == errcode


def test_template_daily_quota(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.limits.template_daily = 2
    state.add_follower("o-li")
    body = {"touser": "o-li", "template_id": TEMPLATE_ID, "data": {}}
    assert [post(http, fake, TEMPLATE, token, body)["errcode"] for _ in range(3)] == [0, 0, 45009]


def mass_by_tag(tag_id: int) -> dict[str, object]:
    return {
        "filter": {"is_to_all": False, "tag_id": tag_id},
        "msgtype": "text",
        "text": {"content": "防疫通告"},
    }


def test_mass_by_tag_reaches_tagged_followers_four_times_a_month(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState, clock: ManualClock
) -> None:
    state.add_follower("o-a", tags=[7])
    state.add_follower("o-b", tags=[7, 8])
    state.add_follower("o-c", tags=[8])
    state.add_follower("o-d", tags=[7], subscribed=False)
    first = post(http, fake, MASS, token, mass_by_tag(7))
    assert first["errcode"] == 0 and first["errmsg"] == "send job submission success" and first["msg_id"]
    assert state.delivered("mass", "7")[0].recipients == ("o-a", "o-b")
    for _ in range(3):
        post(http, fake, MASS, token, mass_by_tag(7))
    assert post(http, fake, MASS, token, mass_by_tag(7))["errcode"] == 45028
    # o-b has had four this month: a send to tag 8 reaches only o-c
    assert post(http, fake, MASS, token, mass_by_tag(8))["errcode"] == 0
    assert state.delivered("mass", "8")[0].recipients == ("o-c",)
    assert state.delivered("mass", "8")[0].payload["filtered"] == 1
    clock.advance(31 * 86400)
    assert post(http, fake, MASS, fetch_token(http, fake), mass_by_tag(7))["errcode"] == 0


def test_mass_to_all_and_filter_errors(
    fake: FakeWeChatServer, http: requests.Session, token: str, state: FakeWeChatState
) -> None:
    state.add_follower("o-a", tags=[7])
    state.add_follower("o-b")
    to_all = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "通告"}}
    assert post(http, fake, MASS, token, to_all)["errcode"] == 0
    assert state.delivered("mass", "all")[0].recipients == ("o-a", "o-b")
    group_style = {"filter": {"is_to_all": False, "group_id": 7}, "msgtype": "text", "text": {"content": "x"}}
    assert post(http, fake, MASS, token, group_style)["errcode"] == 47001  # wechatpy 1.8.18's body
    assert post(http, fake, MASS, token, mass_by_tag(99))["errcode"] == 45159
    assert post(http, fake, MASS, token, {**mass_by_tag(7), "msgtype": "sms"})["errcode"] == 40008


def test_window_count_holds_under_concurrent_senders(
    fake: FakeWeChatServer, token: str, state: FakeWeChatState
) -> None:
    state.user_interaction("o-busy")

    def send(_: int) -> int:
        with requests.Session() as session:
            return custom(session, fake, token, "o-busy")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(12)))
    assert sorted(results) == [0] * 5 + [45047] * 7
    assert len(state.delivered("custom", "o-busy")) == 5
