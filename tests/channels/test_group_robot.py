"""WeCom group robots: plain webhook POSTs, byte limits enforced before sending, the key kept out of logs."""

from __future__ import annotations

import logging

import pytest

from bot.channels.base import Channel, DeliveryError
from bot.fake_wechat import FakeWeChatState

from .conftest import ROBOT_KEY

HAN = "疫"  # three bytes in UTF-8


def test_text_is_posted_to_the_webhook_without_a_token(
    channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    payload = {"msgtype": "text", "text": {"content": "各位村民：请勿聚集。", "mentioned_list": ["@all"]}}
    channels["wecom_robot"].send(ROBOT_KEY, payload)
    [delivery] = state.delivered("robot")
    assert (delivery.target, delivery.payload) == (ROBOT_KEY, payload)
    [call] = state.calls("webhook/send")
    assert call.params == {"key": ROBOT_KEY}
    assert state.token_fetches() == 0


@pytest.mark.parametrize(
    ("msgtype", "limit"), [("text", 2048), ("markdown", 4096)], ids=["text-2048", "markdown-4096"]
)
def test_cjk_text_at_the_limit_goes_and_over_it_is_refused_with_the_excess(
    channels: dict[str, Channel], state: FakeWeChatState, msgtype: str, limit: int
) -> None:
    fits = HAN * (limit // 3) + "a" * (limit % 3)
    channels["wecom_robot"].send(ROBOT_KEY, {"msgtype": msgtype, msgtype: {"content": fits}})
    over = HAN * (limit // 3 + 1)  # one more character: 3 - limit % 3 bytes too many
    with pytest.raises(DeliveryError) as caught:
        channels["wecom_robot"].send(ROBOT_KEY, {"msgtype": msgtype, msgtype: {"content": over}})
    assert not caught.value.transient
    assert f"超出 {limit} 字节上限 {3 - limit % 3 if limit % 3 else 3} 字节" in caught.value.explanation_zh
    assert len(state.calls("webhook/send")) == 1  # the refused one never left


def test_an_unknown_key_is_permanent(channels: dict[str, Channel]) -> None:
    with pytest.raises(DeliveryError) as caught:
        channels["wecom_robot"].send("not-a-robot", {"msgtype": "text", "text": {"content": "x"}})
    assert caught.value.errcode == 93000 and not caught.value.transient
    assert caught.value.explanation_zh == "群机器人 webhook key 无效"


def test_rate_limit_is_transient_and_the_key_stays_out_of_logs(
    channels: dict[str, Channel], state: FakeWeChatState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state.inject_fault("webhook/send", errcode=45009)
    state.inject_fault("webhook/send", http_status=503)
    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            channels["wecom_robot"].send(ROBOT_KEY, {"msgtype": "text", "text": {"content": "x"}})
        assert caught.value.transient
        assert ROBOT_KEY not in str(caught.value)
    assert "webhook/send" in caplog.text  # urllib3 logged the request ...
    assert ROBOT_KEY not in caplog.text  # ... with the key masked
