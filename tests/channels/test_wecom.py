"""WeCom channels: app messages, app chats and customer-group tasks, as the fake WeCom received them."""

from __future__ import annotations

import pytest

from bot.channels.base import Channel, DeliveryError
from bot.fake_wechat import FakeWeChatState
from bot.fake_wechat.records import AppChat

from .conftest import AGENTID, CORPID


def test_app_message_carries_touser_and_the_configured_agentid(
    channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    payload = {"msgtype": "markdown", "markdown": {"content": "**新线索**：城关派出所辖区"}}
    result = channels["wecom_app"].send("zhangsan|lisi", payload)
    [delivery] = state.delivered("wecom_app")
    assert delivery.payload == {"touser": "zhangsan|lisi", "agentid": AGENTID, **payload}
    assert delivery.recipients == ("zhangsan", "lisi")
    assert result.msgid == delivery.msgid


def test_app_chat_message(channels: dict[str, Channel], state: FakeWeChatState) -> None:
    state.chats["lanxichat01"] = AppChat(
        "lanxichat01", "网安值班", "zhangsan", ("zhangsan", "lisi"), CORPID, AGENTID
    )
    payload = {"msgtype": "text", "text": {"content": "新的谣言线索待核查"}}
    channels["wecom_appchat"].send("lanxichat01", payload)
    [delivery] = state.delivered("appchat")
    assert delivery.payload == {"chatid": "lanxichat01", **payload}
    assert delivery.recipients == ("zhangsan", "lisi")


def test_app_chat_the_app_did_not_create_is_permanent(channels: dict[str, Channel]) -> None:
    with pytest.raises(DeliveryError) as caught:
        channels["wecom_appchat"].send("someoneelses", {"msgtype": "text", "text": {"content": "x"}})
    assert caught.value.errcode == 86003 and not caught.value.transient


def test_customer_group_task_is_a_group_task_from_the_staff_member(
    channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    payload = {
        "text": {"content": "【兰溪县公安局】疫情防控提示"},
        "attachments": [{"msgtype": "link", "link": {"title": "提示", "url": "http://x/a/1"}}],
    }
    result = channels["wecom_customer_group"].send("staff01", payload)
    [delivery] = state.delivered("group_task")
    assert delivery.target == "staff01"
    assert {k: delivery.payload[k] for k in ("chat_type", "sender", "text", "attachments")} == {
        "chat_type": "group",
        "sender": "staff01",
        **payload,
    }
    assert result.msgid == delivery.payload["msgid"]


def test_customer_group_task_needs_content(channels: dict[str, Channel], state: FakeWeChatState) -> None:
    with pytest.raises(DeliveryError, match="消息格式错误"):
        channels["wecom_customer_group"].send("staff01", {"attachments": []})
    assert state.calls() == []
