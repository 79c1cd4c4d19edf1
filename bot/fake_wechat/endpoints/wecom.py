"""WeCom app messages, app chats and customer-group send tasks."""

from __future__ import annotations

import re
import secrets
from typing import Any

from ..errors import WeChatError, ok
from ..protocol import Endpoint, Req, section, text_field, truncate_utf8, utf8_len
from ..records import APPCHAT, GROUP_TASK, WECOM_APP, AppChat
from ..state import FakeWeChatState

_WECOM = ("wecom",)
APP_MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown"}
    | {"miniprogram_notice", "template_card"}
)
_CHATID = re.compile(r"[0-9a-zA-Z]{1,32}")
_CHAT_MEMBERS = (2, 2000)


def _app_message(state: FakeWeChatState, body: dict[str, Any]) -> dict[str, Any]:
    """The message part of an app / app-chat message, as WeCom delivers it (long text is cut, not refused)."""
    msgtype = body.get("msgtype")
    if msgtype not in APP_MESSAGE_TYPES:
        raise WeChatError(40008)
    content = dict(section(body, msgtype))
    if msgtype in ("text", "markdown"):
        text = content.get("content")
        if not isinstance(text, str) or not text:
            raise WeChatError(44004)
        if msgtype == "text":
            content["content"] = truncate_utf8(text, state.limits.wecom_text_bytes)
        elif utf8_len(text) > state.limits.wecom_markdown_bytes:
            limit = state.limits.wecom_markdown_bytes
            raise WeChatError(40058, f"markdown.content exceed max length {limit}")
    elif msgtype in ("image", "voice", "video", "file") and content.get("media_id") not in state.media:
        raise WeChatError(40007)
    return {"msgtype": msgtype, msgtype: content}


def send_app_message(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    caller = req.need_caller()
    if body.get("agentid") in (None, ""):
        raise WeChatError(41011)
    if str(body["agentid"]) != str(caller.agentid):
        raise WeChatError(40056)
    users = [u for u in str(body.get("touser") or "").split("|") if u]
    if not (users or body.get("toparty") or body.get("totag")):
        raise WeChatError(81013)
    message = _app_message(state, body)
    msgid = state.deliver(WECOM_APP, str(body.get("touser") or ""), {**body, **message}, users)
    return ok(
        invaliduser="",
        invalidparty="",
        invalidtag="",
        unlicenseduser="",
        msgid=msgid,
        response_code=secrets.token_hex(16),
    )


def create_chat(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    caller = req.need_caller()
    users = body.get("userlist")
    if not isinstance(users, list) or not _CHAT_MEMBERS[0] <= len(users) <= _CHAT_MEMBERS[1]:
        raise WeChatError(86006)
    chatid = body.get("chatid") or secrets.token_hex(16)
    if not isinstance(chatid, str) or not _CHATID.fullmatch(chatid):
        raise WeChatError(86001)
    if chatid in state.chats:
        raise WeChatError(86215)
    name = str(body.get("name") or "")[:50]  # longer names are cut, as WeCom does
    owner = str(body.get("owner") or users[0])
    state.chats[chatid] = AppChat(chatid, name, owner, tuple(map(str, users)), caller.owner, caller.agentid)
    return ok(chatid=chatid)


def _own_chat(state: FakeWeChatState, req: Req, chatid: str) -> AppChat:
    """Apps see only the chats they created."""
    caller = req.need_caller()
    chat = state.chats.get(chatid)
    if chat is None or (chat.corpid, chat.agentid) != (caller.owner, caller.agentid):
        raise WeChatError(86003)
    return chat


def send_chat(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    chat = _own_chat(state, req, text_field(body, "chatid", 86001))
    message = _app_message(state, body)
    state.deliver(APPCHAT, chat.chatid, {**body, **message}, chat.userlist)
    return ok()


def get_chat(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    chat = _own_chat(state, req, req.params.get("chatid", ""))
    info = {
        "chatid": chat.chatid,
        "name": chat.name,
        "owner": chat.owner,
        "userlist": list(chat.userlist),
        "chat_type": 0,
    }
    return ok(chat_info=info)


def add_msg_template(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    """Creates a send task a staff member confirms in WeCom; group tasks need a sender."""
    body = req.body()
    chat_type = body.get("chat_type", "single")
    sender = str(body.get("sender") or "")
    if chat_type not in ("single", "group") or (chat_type == "group" and not sender):
        raise WeChatError(40058, "sender required when chat_type is group")
    text = body.get("text", {}).get("content", "") if isinstance(body.get("text"), dict) else ""
    attachments = body.get("attachments") or []
    if not text and not attachments:
        raise WeChatError(44004)
    if utf8_len(text) > state.limits.group_task_text_bytes:
        raise WeChatError(40058, f"text.content exceed max length {state.limits.group_task_text_bytes}")
    if not isinstance(attachments, list) or len(attachments) > 9:
        raise WeChatError(40058, "attachments: at most 9")
    if chat_type == "group" and not state.quotas.group_task.try_take(sender, state.now()):
        raise WeChatError(45009, "group send quota exceeded for this month")
    msgid = "msg" + secrets.token_urlsafe(18)
    state.deliver(GROUP_TASK, sender, {**body, "msgid": msgid})
    return ok(fail_list=[], msgid=msgid)


ENDPOINTS = (
    Endpoint("/cgi-bin/message/send", ("POST",), send_app_message, _WECOM),
    Endpoint("/cgi-bin/appchat/create", ("POST",), create_chat, _WECOM),
    Endpoint("/cgi-bin/appchat/send", ("POST",), send_chat, _WECOM),
    Endpoint("/cgi-bin/appchat/get", ("GET",), get_chat, _WECOM),
    Endpoint("/cgi-bin/externalcontact/add_msg_template", ("POST",), add_msg_template, _WECOM),
)
