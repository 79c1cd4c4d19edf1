"""Outbound WeChat channels, by the names outbox rows carry, over one token store and HTTP session."""

from __future__ import annotations

from bot.channels.base import Channel
from bot.channels.group_robot import GroupRobotChannel
from bot.channels.official_account import OaCustomChannel, OaMassChannel, OaTemplateChannel, oa_api
from bot.channels.tokens import TokenStore
from bot.channels.wecom import (
    WeComAppChannel,
    WeComAppChatChannel,
    WeComCustomerGroupChannel,
    wecom_api,
)
from bot.runtime import Runtime

CHANNEL_NAMES = (
    "oa_custom",
    "oa_template",
    "oa_mass",
    "wecom_app",
    "wecom_appchat",
    "wecom_robot",
    "wecom_customer_group",
)


def build_channels(rt: Runtime, tokens: TokenStore | None = None) -> dict[str, Channel]:
    """Every channel by name; pass ``tokens`` to share one store (and its session) with other callers."""
    tokens = tokens or TokenStore(rt)
    settings = rt.settings.resolved()  # "embedded" base URLs become the in-process stand-in's
    oa, wecom = oa_api(settings.wechat, tokens), wecom_api(settings.wecom, tokens)
    channels: list[Channel] = [
        OaCustomChannel(oa),
        OaTemplateChannel(oa),
        OaMassChannel(oa),
        WeComAppChannel(wecom, settings.wecom.agent_id),
        WeComAppChatChannel(wecom),
        GroupRobotChannel(tokens.http, settings.wecom.api_base_url),
        WeComCustomerGroupChannel(wecom),
    ]
    return {channel.name: channel for channel in channels}
