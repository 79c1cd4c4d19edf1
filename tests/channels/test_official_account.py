"""Official Account channels and helpers, as the fake WeChat received them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.channels import CHANNEL_NAMES, build_channels
from bot.channels.base import Channel, DeliveryError
from bot.channels.official_account import OfficialAccountApi
from bot.channels.tokens import TokenStore
from bot.config import replace
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.fake_wechat.records import Media
from bot.runtime import Runtime

from .conftest import TEMPLATE_ID


def test_build_channels_names_every_channel(crt: Runtime, tokens: TokenStore) -> None:
    channels = build_channels(crt, tokens)
    assert tuple(channels) == CHANNEL_NAMES
    assert all(name == channel.name for name, channel in channels.items())


def test_custom_text_is_posted_as_wechat_json(
    channels: dict[str, Channel], state: FakeWeChatState, follower: str
) -> None:
    payload = {"msgtype": "text", "text": {"content": "您好，请完成今日健康打卡。"}}
    channels["oa_custom"].send(follower, payload)
    [delivery] = state.delivered("custom")
    assert delivery.payload == {"touser": follower, **payload}


def test_custom_news_and_image(channels: dict[str, Channel], state: FakeWeChatState, follower: str) -> None:
    state.media["m-photo"] = Media("m-photo", "image", b"jpeg", "image/jpeg", "a.jpg", state.now())
    article = {"title": "防疫提示", "description": "请勿轻信谣言", "url": "http://x/a/1", "picurl": ""}
    channels["oa_custom"].send(follower, {"msgtype": "news", "news": {"articles": [article]}})
    channels["oa_custom"].send(follower, {"msgtype": "image", "image": {"media_id": "m-photo"}})
    news, image = state.delivered("custom")
    assert news.payload["news"] == {"articles": [article]}
    assert image.payload == {"touser": follower, "msgtype": "image", "image": {"media_id": "m-photo"}}


def test_template_message_returns_the_msgid(
    channels: dict[str, Channel], state: FakeWeChatState, follower: str
) -> None:
    payload = {
        "template_id": TEMPLATE_ID,
        "url": "http://127.0.0.1:8080/h5/checkin",
        "data": {"first": {"value": "今日健康打卡"}, "keyword1": {"value": "2020-02-01"}},
    }
    result = channels["oa_template"].send(follower, payload)
    [delivery] = state.delivered("template")
    assert delivery.payload == {"touser": follower, **payload}
    assert result.msgid == delivery.msgid


def test_mass_send_posts_tag_id_not_group_id(channels: dict[str, Channel], state: FakeWeChatState) -> None:
    state.add_follower("o-a", tags=[101])
    state.add_follower("o-b", tags=[202])
    result = channels["oa_mass"].send("101", {"msgtype": "text", "text": {"content": "群发提示"}})
    [call] = state.calls("message/mass/sendall")
    assert call.json["filter"] == {"is_to_all": False, "tag_id": 101}
    assert "group_id" not in call.json["filter"]
    [delivery] = state.delivered("mass")
    assert (delivery.target, delivery.recipients, result.msgid) == ("101", ("o-a",), delivery.msgid)


def test_mass_send_to_all(channels: dict[str, Channel], state: FakeWeChatState) -> None:
    state.add_follower("o-a")
    state.add_follower("o-b")
    channels["oa_mass"].send("all", {"msgtype": "text", "text": {"content": "全体提示"}})
    [delivery] = state.delivered("mass")
    assert delivery.payload["filter"] == {"is_to_all": True}
    assert sorted(delivery.recipients) == ["o-a", "o-b"]


@pytest.mark.parametrize(
    ("name", "recipient", "payload"),
    [
        ("oa_mass", "residents", {"msgtype": "text", "text": {"content": "x"}}),
        ("oa_custom", "o-a", {"text": {"content": "x"}}),
        ("oa_custom", "", {"msgtype": "text", "text": {"content": "x"}}),
        ("oa_template", "o-a", {"data": {}}),
    ],
    ids=["tag-not-a-number", "no-msgtype", "no-recipient", "no-template-id"],
)
def test_malformed_rows_fail_for_good_without_calling_wechat(
    channels: dict[str, Channel],
    state: FakeWeChatState,
    name: str,
    recipient: str,
    payload: dict[str, object],
) -> None:
    with pytest.raises(DeliveryError, match="消息格式错误") as caught:
        channels[name].send(recipient, payload)
    assert not caught.value.transient
    assert state.calls() == []


# -- the account's other calls ---------------------------------------------------------------------------
@pytest.fixture
def api(crt: Runtime, tokens: TokenStore) -> OfficialAccountApi:
    return OfficialAccountApi(crt, tokens)


def test_qr_scenes_permanent_and_temporary(api: OfficialAccountApi, state: FakeWeChatState) -> None:
    ticket, url = api.create_qr_scene("bind-r42", permanent=True)
    code = state.qr_code(ticket)
    assert code is not None and url == code.url
    assert (code.action_name, code.scene, code.expires_at) == ("QR_LIMIT_STR_SCENE", "bind-r42", None)
    temp_ticket, _ = api.create_qr_scene("station-7", permanent=False)
    temp = state.qr_code(temp_ticket)
    assert temp is not None and temp.action_name == "QR_STR_SCENE"
    assert temp.expires_at == pytest.approx(temp.created_at + 30 * 86400)


def test_qr_image_url_serves_the_image(api: OfficialAccountApi, fake: FakeWeChatServer) -> None:
    ticket, _ = api.create_qr_scene("bind-r43", permanent=True)
    image_url = api.qr_image_url(ticket)
    assert image_url.startswith(fake.url + "/cgi-bin/showqrcode?ticket=")
    with requests.get(image_url, timeout=5) as response:
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


def test_qr_image_url_for_the_real_api_is_on_mp_weixin(crt: Runtime, tokens: TokenStore) -> None:
    real = Runtime(
        replace(crt.settings, wechat={"api_base_url": "https://api.weixin.qq.com"}), crt.engine, crt.sessions
    )
    assert (
        OfficialAccountApi(real, tokens)
        .qr_image_url("a+b/c")
        .startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=a%2Bb%2Fc")
    )


def test_user_info(api: OfficialAccountApi, state: FakeWeChatState) -> None:
    state.add_follower("o-zhang", nickname="张三", tags=[3])
    info = api.user_info("o-zhang")
    assert (info["subscribe"], info["nickname"], info["tagid_list"]) == (1, "张三", [3])
    with pytest.raises(DeliveryError) as caught:
        api.user_info("o-nobody")
    assert caught.value.errcode == 40003 and not caught.value.transient


def test_download_media_is_capped(api: OfficialAccountApi, state: FakeWeChatState) -> None:
    data = bytes(range(256)) * 40
    state.media["m-voice"] = Media("m-voice", "voice", data, "audio/amr", "v.amr", state.now())
    assert api.download_media("m-voice", max_bytes=len(data)) == (data, "audio/amr")
    with pytest.raises(DeliveryError, match="字节上限") as too_big:
        api.download_media("m-voice", max_bytes=len(data) - 1)
    assert not too_big.value.transient
    with pytest.raises(DeliveryError) as unknown:
        api.download_media("m-gone", max_bytes=1000)
    assert unknown.value.errcode == 40007 and not unknown.value.transient


def test_download_media_refreshes_a_rejected_token(
    api: OfficialAccountApi, state: FakeWeChatState, tokens: TokenStore
) -> None:
    state.media["m-img"] = Media("m-img", "image", b"img", "image/jpeg", "i.jpg", state.now())
    api.download_media("m-img", max_bytes=100)
    state.invalidate_tokens()
    assert api.download_media("m-img", max_bytes=100) == (b"img", "image/jpeg")
    assert state.token_fetches() == 2


def test_oauth_snsapi_base_flow(api: OfficialAccountApi, fake: FakeWeChatServer) -> None:
    url = api.oauth_authorize_url("http://127.0.0.1:8080/h5/checkin?day=1", "s-123")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert url.startswith(fake.url + "/connect/oauth2/authorize?") and parts.fragment == "wechat_redirect"
    assert (query["scope"], query["response_type"], query["state"]) == (["snsapi_base"], ["code"], ["s-123"])
    # The phone opens the link inside WeChat; WeChat redirects back with a code.
    with requests.get(url, cookies={"fake_openid": "o-phone"}, allow_redirects=False, timeout=5) as response:
        assert response.status_code == 302
        back = urlsplit(response.headers["Location"])
    back_query = parse_qs(back.query)
    assert back.path == "/h5/checkin" and back_query["state"] == ["s-123"] and back_query["day"] == ["1"]
    code = back_query["code"][0]
    assert api.oauth_openid(code) == "o-phone"
    with pytest.raises(DeliveryError) as reused:
        api.oauth_openid(code)
    assert reused.value.errcode == 40163 and not reused.value.transient
