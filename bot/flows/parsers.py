"""Reply parsers by name, as flow definitions refer to them (``parser = "health"``).

A parser reads one inbound and answers an ``Answer`` (the choice that picks the transition, and the
named fields a node may store) or None when the reply is unclear. The registry is a plain dict:
add a parser with ``register`` before loading flows that use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.flows.graph import DEFAULT
from bot.flows.model import Inbound, Json
from bot.flows.understanding import (
    normalize,
    parse_health,
    parse_return_plan,
    parse_temperature,
    parse_whereabouts,
    parse_yes_no,
    separate_choice,
)
from bot.flows.understanding.temperature import FEVER_FROM

# A pasted rumour can be long; WeChat itself caps a text message well below this.
FREE_TEXT_MAX = 4000
SHORT_TEXT_MAX = 200

TEXT_KINDS = frozenset({"text", "voice"})


@dataclass(frozen=True)
class Answer:
    choice: str
    fields: dict[str, Json]


ParseFn = Callable[[Inbound, date], Answer | None]


@dataclass(frozen=True)
class Parser:
    """``fields`` and ``choices`` it can produce (checked against flow definitions at load time);
    ``kinds``: the inbound kinds it reads (anything else is unclear)."""

    parse: ParseFn
    fields: frozenset[str]
    choices: frozenset[str]
    kinds: frozenset[str] = TEXT_KINDS


def _text(inbound: Inbound) -> str:
    return inbound.text or ""


def _health(inbound: Inbound, today: date) -> Answer | None:
    text = separate_choice(_text(inbound))  # "2 38度" is "2，38度", not "238度"
    health = parse_health(text)
    if health is None:
        return None
    # "2，38.5度" answers the temperature question too: the flow then skips it.
    temperature = parse_temperature(text)
    return Answer(health.value, {"value": health.value, "temperature": _degrees(temperature)})


def _degrees(value: Decimal | None) -> str | None:
    # Kept as text ("37.8"): exact, and JSON has no decimal type.
    return None if value is None else str(value)


def _temperature(inbound: Inbound, today: date) -> Answer | None:
    value = parse_temperature(_text(inbound))
    if value is None:
        return None
    return Answer("fever" if value >= FEVER_FROM else "normal", {"value": _degrees(value)})


def _whereabouts(inbound: Inbound, today: date) -> Answer | None:
    # A shared location answers too: its label names the city ("黑龙江省哈尔滨市南岗区...").
    text = str(inbound.payload.get("label", "")) if inbound.kind == "location" else _text(inbound)
    where = parse_whereabouts(text)
    if where is None:
        return None
    choice = "unchanged" if where.unchanged else "moved"
    return Answer(choice, {"unchanged": where.unchanged, "city": where.city})


def _return_plan(inbound: Inbound, today: date) -> Answer | None:
    plan = parse_return_plan(_text(inbound), today)
    if plan is None:
        return None
    return Answer(plan.kind, {"value": plan.kind, "date": plan.on.isoformat() if plan.on else None})


def _yes_no(inbound: Inbound, today: date) -> Answer | None:
    said = parse_yes_no(_text(inbound))
    if said is None:
        return None
    return Answer("yes" if said else "no", {"value": said})


_NAME_PREFIX = re.compile(r"^(?:我叫|我是|名字叫|名字是|姓名是|名字|姓名)[:：]?")
_HAN = r"[\u4e00-\u9fff\u3400-\u4dbf]"
# Han characters, with the middle dot of minority names ("买买提·艾力").
_NAME = re.compile(rf"{_HAN}+(?:[·•・]{_HAN}+)*")


def _person_name(inbound: Inbound, today: date) -> Answer | None:
    text = _NAME_PREFIX.sub("", normalize(_text(inbound)))
    if not 2 <= len(text) <= 20 or _NAME.fullmatch(text) is None:
        return None
    return Answer(DEFAULT, {"value": text})


_PHONE = re.compile(r"1[3-9]\d{9}")
_ID_SUFFIX = re.compile(r"\d{5}[\dx]")
_FULL_ID = re.compile(r"\d{17}[\dx]")
_DIGIT_NOISE = re.compile(r"[\s\-—–()]")


def _id_or_phone(inbound: Inbound, today: date) -> Answer | None:
    text = _DIGIT_NOISE.sub("", unicodedata.normalize("NFKC", _text(inbound))).lower()
    if _PHONE.fullmatch(text):
        return Answer("phone", {"phone": text, "id_suffix": None})
    # A whole ID number is cut to the six characters we need: we never keep the rest.
    if _ID_SUFFIX.fullmatch(text) or _FULL_ID.fullmatch(text):
        return Answer("id_suffix", {"id_suffix": text[-6:].upper(), "phone": None})
    return None


def _free_text(inbound: Inbound, today: date) -> Answer | None:
    payload = inbound.payload
    if inbound.kind == "image":
        media_id = str(payload.get("media_id", ""))
        value: str | None = "" if media_id else None
        url = str(payload.get("pic_url", "")) or None
    elif inbound.kind == "link":
        url = str(payload.get("url", "")) or None
        value = str(payload.get("title", "")).strip() if url else None
        media_id = ""
    else:
        text = _text(inbound).strip()
        value = text[:FREE_TEXT_MAX] if normalize(text) else None
        url, media_id = None, str(payload.get("media_id", ""))
    if value is None:
        return None
    fields: dict[str, Json] = {"value": value, "kind": inbound.kind, "media_id": media_id or None, "url": url}
    return Answer(DEFAULT, fields)


def _short_text(inbound: Inbound, today: date) -> Answer | None:
    text = _text(inbound).strip()
    if not normalize(text):
        return None  # emoji, stickers or punctuation only
    return Answer(DEFAULT, {"value": text[:SHORT_TEXT_MAX]})


_HEALTH_CHOICES = frozenset({"normal", "fever", "symptoms", "treated"})

REGISTRY: dict[str, Parser] = {
    "health": Parser(_health, frozenset({"value", "temperature"}), _HEALTH_CHOICES),
    "temperature": Parser(_temperature, frozenset({"value"}), frozenset({"fever", "normal"})),
    "whereabouts": Parser(
        _whereabouts,
        frozenset({"unchanged", "city"}),
        frozenset({"unchanged", "moved"}),
        TEXT_KINDS | {"location"},
    ),
    "return_plan": Parser(
        _return_plan, frozenset({"value", "date"}), frozenset({"date", "returned", "undecided"})
    ),
    "yes_no": Parser(_yes_no, frozenset({"value"}), frozenset({"yes", "no"})),
    "person_name": Parser(_person_name, frozenset({"value"}), frozenset({DEFAULT})),
    "id_or_phone": Parser(_id_or_phone, frozenset({"id_suffix", "phone"}), frozenset({"id_suffix", "phone"})),
    "free_text": Parser(
        _free_text,
        frozenset({"value", "kind", "media_id", "url"}),
        frozenset({DEFAULT}),
        TEXT_KINDS | {"link", "image"},
    ),
    "short_text": Parser(_short_text, frozenset({"value"}), frozenset({DEFAULT})),
}


def register(name: str, parser: Parser) -> None:
    """Add a parser for flow definitions to name; a name is registered once."""
    if name in REGISTRY:
        raise ValueError(f"parser {name!r} is already registered")
    REGISTRY[name] = parser
