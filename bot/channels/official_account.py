"""Official Account channels (customer-service, template, mass) and the account's other API calls.

Plain HTTP through ``bot.channels.http`` rather than wechatpy's client: outbox payloads already are
WeChat's JSON, so wechatpy's helpers would only take them apart and rebuild them, while everything
around them would need working around: its unbounded token retry, no default timeout, unwrapped
``requests`` errors, the token in exception URLs, the hard-coded token URL, ``group_id`` instead of
``tag_id`` in mass sends, and no ``stable_token``. Tokens come from the shared TokenStore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from bot.channels.authed import AuthedApi
from bot.channels.base import DeliveryError, SendResult
from bot.channels.payloads import malformed, message_part, require_recipient
from bot.channels.tokens import TokenStore, oa_key
from bot.config import WeChatSettings
from bot.runtime import Runtime

REAL_API_BASE = "https://api.weixin.qq.com"
REAL_QR_BASE = "https://mp.weixin.qq.com"
QR_TEMPORARY_SECONDS = 30 * 86400  # the longest WeChat allows


def oa_api(settings: WeChatSettings, tokens: TokenStore) -> AuthedApi:
    return AuthedApi(tokens, oa_key(settings.app_id), settings.api_base_url)


def _msgid(answer: Mapping[str, Any], field: str) -> str:
    value = answer.get(field)
    return "" if value is None else str(value)


class OaCustomChannel:
    """Customer-service messages: only inside the window a user's own message opened (else 45015)."""

    name = "oa_custom"

    def __init__(self, api: AuthedApi) -> None:
        self._api = api

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        message_part(payload)
        body = {**payload, "touser": require_recipient(recipient)}
        self._api.call("POST", "/cgi-bin/message/custom/send", body=body)
        return SendResult()


class OaTemplateChannel:
    """Template messages, the one way to start a conversation: ``{"template_id", "url"?, "data"}``."""

    name = "oa_template"

    def __init__(self, api: AuthedApi) -> None:
        self._api = api

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        if not isinstance(payload.get("template_id"), str) or not payload["template_id"]:
            raise malformed("缺少 template_id")
        if not isinstance(payload.get("data", {}), Mapping):
            raise malformed("data 必须是对象")
        body = {**payload, "touser": require_recipient(recipient)}
        answer = self._api.call("POST", "/cgi-bin/message/template/send", body=body)
        return SendResult(msgid=_msgid(answer, "msgid"))


def mass_filter(recipient: str) -> dict[str, Any]:
    """``"all"`` for every follower, else a tag id (wechatpy 1.8.18 wrongly sends ``group_id``)."""
    target = require_recipient(recipient)
    if target == "all":
        return {"is_to_all": True}
    if not target.isdigit():
        raise malformed(f"群发对象应为标签 ID 或 all，而不是 {target!r}")
    return {"is_to_all": False, "tag_id": int(target)}


class OaMassChannel:
    """Mass send to a tag or to all followers; each follower receives at most four a month."""

    name = "oa_mass"

    def __init__(self, api: AuthedApi) -> None:
        self._api = api

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        message_part(payload)
        body = {**payload, "filter": mass_filter(recipient)}
        answer = self._api.call("POST", "/cgi-bin/message/mass/sendall", body=body)
        return SendResult(msgid=_msgid(answer, "msg_id"), detail={"msg_data_id": answer.get("msg_data_id")})


class OfficialAccountApi:
    """The account's non-message calls: QR scenes, user info, media download, web authorization.

    Failures raise DeliveryError like the channels (transient or not, with a Chinese explanation)."""

    def __init__(self, rt: Runtime, tokens: TokenStore) -> None:
        self._settings = rt.settings.resolved().wechat
        self._api = oa_api(self._settings, tokens)

    def create_qr_scene(self, scene: str, permanent: bool) -> tuple[str, str]:
        """(ticket, url) of a string-scene QR code; temporary codes live 30 days."""
        if not 0 < len(scene) <= 64:
            raise ValueError("a QR scene is 1 to 64 characters")
        body: dict[str, Any] = {
            "action_name": "QR_LIMIT_STR_SCENE" if permanent else "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        if not permanent:
            body["expire_seconds"] = QR_TEMPORARY_SECONDS
        answer = self._api.call("POST", "/cgi-bin/qrcode/create", body=body)
        ticket, url = answer.get("ticket"), answer.get("url")
        if not isinstance(ticket, str) or not isinstance(url, str):
            raise DeliveryError("微信未返回二维码 ticket", transient=True)
        return ticket, url

    def qr_image_url(self, ticket: str) -> str:
        """Where the QR image is shown: mp.weixin.qq.com for the real API, else the configured host."""
        base = self._settings.api_base_url.rstrip("/")
        host = REAL_QR_BASE if base == REAL_API_BASE else base
        return f"{host}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"

    def user_info(self, openid: str) -> dict[str, Any]:
        params = {"openid": require_recipient(openid), "lang": "zh_CN"}
        return self._api.call("GET", "/cgi-bin/user/info", params=params)

    def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A temporary media file (a tip's photo or voice) as (bytes, content type), streamed and capped."""
        url = self._api.url("/cgi-bin/media/get")
        http = self._api.http
        return self._api.with_token(
            lambda token: http.download(
                url, params={"access_token": token, "media_id": media_id}, max_bytes=max_bytes
            )
        )

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        """The snsapi_base authorization link: WeChat sends the user back with ``code`` and ``state``."""
        query = urlencode(
            {
                "appid": self._settings.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        return f"{self._settings.open_base_url.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_openid(self, code: str) -> str:
        """The openid behind a web-authorization ``code`` (single use, five minutes)."""
        params = {
            "appid": self._settings.app_id,
            "secret": self._settings.app_secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        answer = self._api.http.call("GET", self._api.url("/sns/oauth2/access_token"), params=params)
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise DeliveryError("微信网页授权未返回 openid", transient=False)
        return openid
