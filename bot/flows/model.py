"""The values the engine takes and gives: what came in, where the conversation stands, what to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# What a state's data, a reply's params and an effect's data hold: anything json.dumps accepts.
Json = str | int | float | bool | None | list["Json"] | dict[str, "Json"]

InboundKind = Literal["text", "event", "location", "image", "link", "voice", "result"]


@dataclass(frozen=True)
class Inbound:
    """One thing the resident (or, for ``result``, the caller) sent.

    ``text``: the text, or a voice message's recognition (None when WeChat recognised nothing).
    ``payload``: the rest, by kind: image {media_id, pic_url}; link {title, description, url};
    location {label, x, y}; voice {media_id}; event {key}; result {outcome, ...}.
    """

    kind: InboundKind
    text: str | None = None
    event: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class State:
    """Where a conversation stands between two messages (maps onto models.ConversationState).

    ``data`` is JSON-able: {"answers": {...}, "unclear": {node: n}, "failures": {node: n}}.
    """

    flow: str
    version: int
    node: str
    data: dict[str, Json]
    expires_at: datetime


@dataclass(frozen=True)
class Reply:
    """A message to send: the template under templates/messages/ and the values it needs."""

    template: str
    params: dict[str, Json] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """Something the caller must do through a service (record the check-in, file the tip ...)."""

    name: str
    data: dict[str, Json] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The engine's answer to one inbound. ``state`` None: the conversation is over (or never began)."""

    state: State | None
    replies: list[Reply]
    effects: list[Effect]
