"""WeCom channels: app messages to staff, app chats, and customer-group send tasks.

Plain HTTP through ``bot.channels.http`` with tokens from the shared TokenStore, for the reasons given
in ``official_account``: the payloads already are WeCom's JSON, and wechatpy's client would need its
token handling, timeouts and error wrapping worked around.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.authed import AuthedApi
from bot.channels.base import SendResult
from bot.channels.payloads import malformed, message_part, require_recipient
from bot.channels.tokens import TokenStore, wecom_key
from bot.config import WeComSettings


def wecom_api(settings: WeComSettings, tokens: TokenStore) -> AuthedApi:
    return AuthedApi(tokens, wecom_key(settings.corp_id, settings.agent_id), settings.api_base_url)


class WeComAppChannel:
    """App messages (text, markdown, news ...) to internal members: recipient ``"userid|userid"``."""

    name = "wecom_app"

    def __init__(self, api: AuthedApi, agent_id: int) -> None:
        self._api = api
        self._agent_id = agent_id

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        message_part(payload)
        body = {**payload, "touser": require_recipient(recipient), "agentid": self._agent_id}
        answer = self._api.call("POST", "/cgi-bin/message/send", body=body)
        # Some addressees may be unknown while the rest received it: WeCom says so without an error.
        detail = {k: answer[k] for k in ("invaliduser", "invalidparty", "invalidtag") if answer.get(k)}
        return SendResult(msgid=str(answer.get("msgid") or ""), detail=detail or None)


class WeComAppChatChannel:
    """Messages into a chat the app created (``appchat/create``): recipient = chatid."""

    name = "wecom_appchat"

    def __init__(self, api: AuthedApi) -> None:
        self._api = api

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        message_part(payload)
        body = {**payload, "chatid": require_recipient(recipient)}
        self._api.call("POST", "/cgi-bin/appchat/send", body=body)
        return SendResult()


class WeComCustomerGroupChannel:
    """A group send task a staff member confirms in WeCom: recipient = that member's userid.

    Payload as ``add_msg_template`` takes it: ``{"text": {"content": ...}, "attachments": [...]}``."""

    name = "wecom_customer_group"

    def __init__(self, api: AuthedApi) -> None:
        self._api = api

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        if not isinstance(payload.get("text"), Mapping) and not payload.get("attachments"):
            raise malformed("需要 text 或 attachments")
        body = {**payload, "chat_type": "group", "sender": require_recipient(recipient)}
        answer = self._api.call("POST", "/cgi-bin/externalcontact/add_msg_template", body=body)
        # Customers who could not be included are listed; the task still went to the staff member.
        fail_list = answer.get("fail_list") or []
        detail = {"fail_list": fail_list} if fail_list else None
        return SendResult(msgid=str(answer.get("msgid") or ""), detail=detail)
