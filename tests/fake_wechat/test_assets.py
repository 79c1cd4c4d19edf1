from __future__ import annotations

import io

import pytest
import requests
from PIL import Image
from wechatpy.exceptions import WeChatClientException

from bot.fake_wechat import FakeWeChatServer, FakeWeChatState

from .conftest import FakeOAClient, ManualClock, fetch_token, post

QR = "/cgi-bin/qrcode/create"


def test_temporary_string_scene_qrcode(
    oa_client: FakeOAClient,
    fake: FakeWeChatServer,
    http: requests.Session,
    state: FakeWeChatState,
    clock: ManualClock,
) -> None:
    answer = oa_client.qrcode.create(
        {
            "expire_seconds": 3600,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "bind:42"}},
        }
    )
    assert answer["expire_seconds"] == 3600 and answer["url"].startswith("http://weixin.qq.com/q/")
    assert state.qr_code(answer["ticket"]).scene == "bind:42"  # type: ignore[union-attr]
    image = http.get(fake.url + "/cgi-bin/showqrcode", params={"ticket": answer["ticket"]}, timeout=5)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).size == (84, 84)
    clock.advance(3600)
    expired = http.get(fake.url + "/cgi-bin/showqrcode", params={"ticket": answer["ticket"]}, timeout=5)
    assert expired.status_code == 404


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_000}}}, 0),
        ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}}, 40097),
        ({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 0}}}, 40097),
        ({"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "x" * 65}}}, 40097),
        ({"action_name": "QR_BOGUS", "action_info": {"scene": {"scene_id": 1}}}, 40097),
    ],
)
def test_qrcode_scene_rules(
    fake: FakeWeChatServer, http: requests.Session, token: str, body: dict[str, object], errcode: int
) -> None:
    answer = post(http, fake, QR, token, body)
    assert answer.get("errcode", 0) == errcode
    if errcode == 0:
        assert "expire_seconds" not in answer  # permanent codes do not expire


def test_user_info(oa_client: FakeOAClient, state: FakeWeChatState) -> None:
    state.add_follower("o-a", nickname="王五", tags=[3])
    state.add_follower("o-b", subscribed=False)
    info = oa_client.user.get("o-a")
    assert info["subscribe"] == 1 and info["tagid_list"] == [3] and info["nickname"] == "王五"
    assert oa_client.user.get("o-b") == {"subscribe": 0, "openid": "o-b", "tagid_list": []}
    with pytest.raises(WeChatClientException) as caught:
        oa_client.user.get("o-unknown")
    assert caught.value.errcode == 40003


def test_media_upload_get_and_expiry(
    oa_client: FakeOAClient, fake: FakeWeChatServer, http: requests.Session, clock: ManualClock
) -> None:
    uploaded = oa_client.media.upload("voice", ("tip.amr", io.BytesIO(b"#!AMR fake"), "audio/amr"))
    assert uploaded["type"] == "voice" and "errcode" not in uploaded
    response = oa_client.media.download(uploaded["media_id"])
    assert response.content == b"#!AMR fake" and response.headers["Content-Type"] == "audio/amr"
    with pytest.raises(WeChatClientException) as wrong_type:
        oa_client.media.upload("pdf", io.BytesIO(b"x"))
    assert wrong_type.value.errcode == 40004
    with pytest.raises(WeChatClientException) as too_big:
        oa_client.media.upload("thumb", io.BytesIO(b"x" * (64 * 1024 + 1)))
    assert too_big.value.errcode == 40006
    clock.advance(3 * 86400)  # wechatpy times its token by the real clock: fetch one valid on the fake's
    params = {"access_token": fetch_token(http, fake), "media_id": uploaded["media_id"]}
    gone = http.get(fake.url + "/cgi-bin/media/get", params=params, timeout=5)
    assert gone.json()["errcode"] == 40007
