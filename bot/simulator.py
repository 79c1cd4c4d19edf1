"""The chat simulator's back end: plays WeChat for a resident, over the real protocol.

Each message is built as WeChat would send it (inbound XML, signed and AES-encrypted in safe
mode), posted over HTTP to our own `/wechat/callback`, and the encrypted passive reply is
opened and verified. Like WeChat, it tells the (local) WeChat servers that the user spoke,
which opens their customer-service window. Messages the bot sends later (customer-service and
template messages, via the outbox) are read back from the local WeChat's delivery record.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests

from bot.config import Settings
from bot.wechat import protocol
from bot.wechat.protocol import CallbackCredentials

TIMEOUT = 10.0
ORIGINAL_ID = "gh_lanxi_demo"  # the Official Account's "original id" (ToUserName)
GROUP_KINDS = ("robot", "appchat", "mass", "group_task", "wecom_app")


class SimulatorError(Exception):
    """The simulator could not reach the callback or the local WeChat; the message says which."""


@dataclass(frozen=True)
class ChatMessage:
    direction: str  # "in" (resident → bot) or "out" (bot → resident)
    kind: str  # text, template, news, image, event ...
    text: str
    at: float
    url: str = ""


class Simulator:
    def __init__(self, settings: Settings, callback_url: str | None = None) -> None:
        self.settings = settings
        self.callback_url = callback_url or settings.web.public_base_url.rstrip("/") + "/wechat/callback"
        self.fake_url = settings.wechat.api_base_url.rstrip("/")
        w = settings.wechat
        self.creds = CallbackCredentials(token=w.token, encoding_aes_key=w.encoding_aes_key, app_id=w.app_id)
        self.http = requests.Session()

    # --- the resident's side -------------------------------------------------------------------

    def new_follower(self, nickname: str = "") -> str:
        openid = "o" + secrets.token_urlsafe(20)[:27]
        self._fake("post", "/_fake/followers", json={"openid": openid, "nickname": nickname})
        return openid

    def text(self, openid: str, content: str) -> str:
        return self._send(openid, MsgType="text", Content=content, MsgId=self._msg_id())

    def voice(self, openid: str, recognition: str) -> str:
        fields: dict[str, Any] = {
            "MsgType": "voice",
            "MediaId": "sim-voice-" + secrets.token_hex(4),
            "Format": "amr",
        }
        if recognition:
            fields["Recognition"] = recognition
        return self._send(openid, **fields, MsgId=self._msg_id())

    def location(self, openid: str, label: str, x: float = 39.9, y: float = 116.4) -> str:
        return self._send(
            openid,
            MsgType="location",
            Location_X=x,
            Location_Y=y,
            Scale=15,
            Label=label,
            MsgId=self._msg_id(),
        )

    def image(self, openid: str, media_id: str = "", pic_url: str = "") -> str:
        return self._send(
            openid,
            MsgType="image",
            PicUrl=pic_url or "http://example.invalid/pic.jpg",
            MediaId=media_id or "sim-image-" + secrets.token_hex(4),
            MsgId=self._msg_id(),
        )

    def link(self, openid: str, title: str, url: str, description: str = "") -> str:
        return self._send(
            openid, MsgType="link", Title=title, Description=description, Url=url, MsgId=self._msg_id()
        )

    def follow(self, openid: str, scene: str | None = None) -> str:
        fields: dict[str, Any] = {"MsgType": "event", "Event": "subscribe"}
        if scene:
            fields["EventKey"] = f"qrscene_{scene}"
        self._fake("post", "/_fake/followers", json={"openid": openid})
        return self._send(openid, **fields)

    def scan(self, openid: str, scene: str) -> str:
        return self._send(openid, MsgType="event", Event="SCAN", EventKey=scene)

    def unfollow(self, openid: str) -> str:
        self._fake("post", "/_fake/followers", json={"openid": openid, "subscribed": False})
        return self._send(openid, MsgType="event", Event="unsubscribe")

    def click(self, openid: str, key: str) -> str:
        return self._send(openid, MsgType="event", Event="CLICK", EventKey=key)

    # --- what the bot sent later ------------------------------------------------------------------

    def later_messages(self, openid: str) -> list[ChatMessage]:
        """Customer-service and template messages the local WeChat delivered to this follower."""
        found: list[ChatMessage] = []
        for kind in ("custom", "template"):
            for item in self._fake("get", "/_fake/delivered", params={"kind": kind, "target": openid})[
                "delivered"
            ]:
                found.append(_chat_message(kind, item))
        return sorted(found, key=lambda m: m.at)

    def group_messages(self) -> list[dict[str, Any]]:
        """What simulated groups (robots, app chats, mass sends, customer-group tasks) received."""
        items: list[dict[str, Any]] = []
        for kind in GROUP_KINDS:
            items.extend(self._fake("get", "/_fake/delivered", params={"kind": kind})["delivered"])
        return sorted(items, key=lambda item: item["at"], reverse=True)

    def available(self) -> bool:
        try:
            self._fake("get", "/_fake/stats")
        except SimulatorError:
            return False
        return True

    # --- plumbing ---------------------------------------------------------------------------------

    def _send(self, openid: str, **fields: Any) -> str:
        now = int(time.time())
        xml = protocol.render_inbound_xml(
            ToUserName=ORIGINAL_ID, FromUserName=openid, CreateTime=now, **fields
        )
        if fields.get("MsgType") != "event" or fields.get("Event") in ("subscribe", "SCAN", "CLICK"):
            self._fake("post", "/_fake/interactions", json={"openid": openid})
        args, body = protocol.build_oa_callback(
            self.creds, xml, mode="safe", timestamp=now, nonce=secrets.token_hex(5)
        )
        try:
            response = self.http.post(
                self.callback_url,
                params=args,
                data=body,
                timeout=TIMEOUT,
                headers={"Content-Type": "text/xml"},
            )
        except requests.RequestException as exc:
            raise SimulatorError(f"callback unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SimulatorError(f"callback answered HTTP {response.status_code}")
        if response.content in (b"", b"success"):
            return ""
        reply_xml = protocol.open_reply(self.creds, response.content)
        return protocol.parse_message(reply_xml).content or ""

    def _fake(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, self.fake_url + path, timeout=TIMEOUT, **kwargs)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SimulatorError(f"local WeChat unreachable: {type(exc).__name__}") from None

    @staticmethod
    def _msg_id() -> int:
        return int(time.time() * 1000) * 1000 + secrets.randbelow(1000)


def _chat_message(kind: str, item: dict[str, Any]) -> ChatMessage:
    payload = item.get("payload") or {}
    if kind == "template":
        data = payload.get("data") or {}
        lines = [str(v.get("value", "")) for v in data.values() if isinstance(v, dict)]
        return ChatMessage("out", "template", "\n".join(lines), item["at"], str(payload.get("url", "")))
    msgtype = payload.get("msgtype", "text")
    body = payload.get(msgtype) or {}
    text = body.get("content") if isinstance(body, dict) else None
    if text is None and msgtype == "news":
        articles = body.get("articles") or [{}]
        text = f"{articles[0].get('title', '')}\n{articles[0].get('description', '')}"
    return ChatMessage("out", msgtype, str(text or ""), item["at"])
