"""Official Account messages: customer-service (in the window), template (starts a conversation), mass."""

from __future__ import annotations

from typing import Any

from ..errors import WeChatError, ok
from ..protocol import Endpoint, Req, section, text_field, utf8_len
from ..records import CUSTOM, MASS, TEMPLATE, Follower
from ..state import FakeWeChatState

_OA = ("oa",)
CUSTOM_TYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "music",
        "news",
        "mpnews",
        "mpnewsarticle",
        "msgmenu",
        "wxcard",
        "miniprogrampage",
    }
)
MASS_TYPES = frozenset({"mpnews", "text", "voice", "image", "mpvideo", "wxcard"})
_NEEDS_TEMP_MEDIA = frozenset({"image", "voice", "video"})


def _follower(state: FakeWeChatState, openid: str) -> Follower:
    follower = state.followers.get(openid)
    if follower is None or not follower.subscribed:
        raise WeChatError(43004)
    return follower


def _check_content(state: FakeWeChatState, msgtype: str, content: dict[str, Any], text_limit: int) -> None:
    if msgtype == "text":
        text = content.get("content")
        if not isinstance(text, str) or not text:
            raise WeChatError(44004)
        if utf8_len(text) > text_limit:
            raise WeChatError(45002)
    elif msgtype in _NEEDS_TEMP_MEDIA and content.get("media_id") not in state.media:
        raise WeChatError(40007)
    elif msgtype == "news":
        articles = content.get("articles")
        if not isinstance(articles, list) or not articles:
            raise WeChatError(47001)
        if len(articles) > 1:  # since 2018 a customer-service news message carries one article
            raise WeChatError(45008)


def send_custom(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    openid = text_field(body, "touser", 40003)
    msgtype = body.get("msgtype")
    if msgtype not in CUSTOM_TYPES:
        raise WeChatError(40008)
    _check_content(state, msgtype, section(body, msgtype), state.limits.custom_text_bytes)
    _follower(state, openid)
    window = state.windows.get(openid)
    if window is None or window.expires_at <= state.now():
        raise WeChatError(45015)
    if window.used >= state.limits.window_messages:
        raise WeChatError(45047)
    window.used += 1
    state.deliver(CUSTOM, openid, body, (openid,))
    return ok()


def send_template(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    openid = text_field(body, "touser", 40003)
    template_id = body.get("template_id")
    if (
        not isinstance(template_id, str)
        or not template_id
        or (state.templates and template_id not in state.templates)
    ):
        raise WeChatError(40037)
    if not isinstance(body.get("data", {}), dict):
        raise WeChatError(47001)
    _follower(state, openid)
    appid = req.need_caller().owner
    if not state.quotas.template.try_take(appid, state.now()):
        raise WeChatError(45009, "reach max api daily quota limit")
    msgid = state.deliver(TEMPLATE, openid, body, (openid,))
    return ok(msgid=int(msgid))


def _mass_audience(state: FakeWeChatState, body: dict[str, Any]) -> tuple[str, list[str]]:
    """(target, subscribed openids) for `filter`: `is_to_all` or `tag_id`.

    wechatpy 1.8.18 sends `group_id`, which WeChat ignores: so does the fake."""
    rule = section(body, "filter")
    subscribed = [f for f in state.followers.values() if f.subscribed]
    if rule.get("is_to_all") is True:
        return "all", [f.openid for f in subscribed]
    tag_id = rule.get("tag_id")
    if not isinstance(tag_id, int) or isinstance(tag_id, bool):
        raise WeChatError(47001, "data format error: filter.tag_id required unless is_to_all")
    if not any(tag_id in f.tags for f in state.followers.values()):
        raise WeChatError(45159)
    return str(tag_id), [f.openid for f in subscribed if tag_id in f.tags]


def send_mass(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    """Followers who already had their monthly four are filtered out, as WeChat does; none left: 45028."""
    body = req.body()
    msgtype = body.get("msgtype")
    if msgtype not in MASS_TYPES:
        raise WeChatError(40008)
    content = section(body, msgtype)
    if msgtype == "text":
        _check_content(state, msgtype, content, state.limits.custom_text_bytes)
    target, audience = _mass_audience(state, body)
    now = state.now()
    reached = [openid for openid in audience if state.quotas.mass.try_take(openid, now)]
    if not reached:
        raise WeChatError(45028)
    payload = {**body, "filtered": len(audience) - len(reached)}
    msg_id = state.deliver(MASS, target, payload, reached)
    return {
        "errcode": 0,
        "errmsg": "send job submission success",
        "msg_id": int(msg_id),
        "msg_data_id": state.next_id(),
    }


ENDPOINTS = (
    Endpoint("/cgi-bin/message/custom/send", ("POST",), send_custom, _OA),
    Endpoint("/cgi-bin/message/template/send", ("POST",), send_template, _OA),
    Endpoint("/cgi-bin/message/mass/sendall", ("POST",), send_mass, _OA),
)
