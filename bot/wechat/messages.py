"""Inbound WeChat messages as typed values, and the XML of passive replies."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.wechat.errors import MalformedMessage
from bot.wechat.xmlsafe import element, parse_fields

_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
_QR_PREFIX = "qrscene_"


@dataclass(frozen=True)
class InboundMessage:
    """One callback message or event. Optional fields are None when absent or empty."""

    account: str
    sender: str
    create_time: int
    msg_type: str
    msg_id: str | None = None
    # What residents wrote or where they are stays out of repr, hence out of logs and tracebacks.
    content: str | None = field(default=None, repr=False)
    recognition: str | None = field(default=None, repr=False)
    media_id: str | None = None
    pic_url: str | None = None
    url: str | None = None
    title: str | None = None
    description: str | None = None
    location: tuple[float, float] | None = field(default=None, repr=False)  # (latitude, longitude)
    label: str | None = field(default=None, repr=False)
    event: str | None = None
    event_key: str | None = None
    status: str | None = None
    agent_id: str | None = None
    raw: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        """Key for WeChat's retries: MsgId for messages, sender + CreateTime + Event for events."""
        if self.msg_id is not None:
            return f"msg:{self.msg_id}"
        return f"evt:{self.sender}:{self.create_time}:{self.event or self.msg_type}"

    @property
    def qr_scene(self) -> str | None:
        """Scene of a parametric QR code for subscribe/scan events, else None."""
        if self.event not in ("subscribe", "scan"):
            return None
        return scene_from_event_key(self.event_key)


def scene_from_event_key(event_key: str | None) -> str | None:
    """`qrscene_<scene>` (subscribe through a QR code) or the bare scene (SCAN) → scene."""
    if not event_key:
        return None
    scene = event_key.removeprefix(_QR_PREFIX)
    return scene or None


def parse_message(xml: str) -> InboundMessage:
    """Parse a decrypted callback document; MalformedMessage on anything unsafe or incomplete."""
    fields = parse_fields(xml)
    missing = [name for name in _REQUIRED if not fields.get(name, "").strip()]
    if missing:
        raise MalformedMessage(f"missing {', '.join(missing)}")
    msg_type = fields["MsgType"].strip().lower()
    event = _opt(fields, "Event")
    event = event.lower() if event else None
    return InboundMessage(
        account=fields["ToUserName"].strip(),
        sender=fields["FromUserName"].strip(),
        create_time=_create_time(fields["CreateTime"]),
        msg_type=msg_type,
        msg_id=_msg_id(fields),
        content=_opt(fields, "Content", strip=False),
        recognition=_opt(fields, "Recognition", strip=False),
        media_id=_opt(fields, "MediaId"),
        pic_url=_opt(fields, "PicUrl"),
        url=_opt(fields, "Url"),
        title=_opt(fields, "Title", strip=False),
        description=_opt(fields, "Description", strip=False),
        location=_location(fields, msg_type, event),
        label=_opt(fields, "Label", strip=False),
        event=event,
        event_key=_opt(fields, "EventKey"),
        status=_opt(fields, "Status"),
        agent_id=_opt(fields, "AgentID"),
        raw=MappingProxyType(fields),
    )


def _opt(fields: Mapping[str, str], name: str, *, strip: bool = True) -> str | None:
    value = fields.get(name, "")
    if strip:
        value = value.strip()
    return value if value.strip() else None


def _create_time(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise MalformedMessage("CreateTime is not a timestamp")
    return int(value)


def _msg_id(fields: Mapping[str, str]) -> str | None:
    value = _opt(fields, "MsgId")
    return None if value in (None, "0") else value  # events carry MsgId 0


def _location(fields: Mapping[str, str], msg_type: str, event: str | None) -> tuple[float, float] | None:
    if msg_type == "location":
        names = ("Location_X", "Location_Y")
    elif event == "location":
        names = ("Latitude", "Longitude")
    else:
        return None
    lat, lon = (_coordinate(fields.get(name, "")) for name in names)
    if abs(lat) > 90 or abs(lon) > 180:
        raise MalformedMessage("coordinates out of range")
    return lat, lon


def _coordinate(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise MalformedMessage("coordinate is not a number") from exc
    if not math.isfinite(value):
        raise MalformedMessage("coordinate is not finite")
    return value


def render_text_reply(msg: InboundMessage, content: str, *, now: int) -> str:
    """Passive text reply to `msg` (sender and account swapped)."""
    return _reply(msg, "text", element("Content", content), now)


def render_news_reply(
    msg: InboundMessage, *, title: str, description: str, url: str, pic_url: str, now: int
) -> str:
    """Passive news reply with one article."""
    item = "".join(
        (
            element("Title", title),
            element("Description", description),
            element("PicUrl", pic_url),
            element("Url", url),
        )
    )
    return _reply(msg, "news", f"{element('ArticleCount', 1)}<Articles><item>{item}</item></Articles>", now)


def _reply(msg: InboundMessage, msg_type: str, body: str, now: int) -> str:
    head = "".join(
        (
            element("ToUserName", msg.sender),
            element("FromUserName", msg.account),
            element("CreateTime", now),
            element("MsgType", msg_type),
        )
    )
    return f"<xml>{head}{body}</xml>"


def render_inbound_xml(**fields: str | int | float) -> str:
    """An inbound document as WeChat sends it, fields in the given order (for tests and the simulator).

    Strings become CDATA, integers and floats stay bare: `render_inbound_xml(ToUserName="gh_1",
    FromUserName="o1", CreateTime=1357290913, MsgType="text", Content="你好", MsgId=1)`.
    """
    return f"<xml>{''.join(element(tag, value) for tag, value in fields.items())}</xml>"
