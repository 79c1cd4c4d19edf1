"""The conversation router: what an inbound message means, given who sent it and where they stand.

Order, for a message from a resident: a global command (查询 T…, 解绑, 帮助) → the conversation
they are in → a flow the message triggers (举报, a menu click) → binding, if they are not bound
yet → today's check-in, if one is open for them → a short help reply. Events (follow, scan,
unfollow) go to their own handlers. Effects of a flow step are applied through services
(registered per area with ``effect``), before the replies are rendered, so a reply can carry
what the effect produced (a tip's ticket number).
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy.orm import Session

from bot import privacy
from bot.clock import local_today
from bot.config import Settings
from bot.flows import definitions, engine, messages
from bot.flows.graph import Flow, Wait
from bot.flows.model import Effect, Inbound, Outcome, Reply, State
from bot.inbound import Handler, Replies
from bot.models import WeChatIdentity
from bot.services import conversation_states, identities
from bot.wechat.messages import InboundMessage

log = logging.getLogger(__name__)


class _Unread(enum.Enum):
    UNREAD = enum.auto()


UNREAD: Final = _Unread.UNREAD


@dataclass
class Turn:
    """Everything a command, event or effect handler may need about the message being handled."""

    db: Session
    settings: Settings
    msg: InboundMessage
    identity: WeChatIdentity
    now: datetime
    context: dict[str, Any] = field(default_factory=dict)
    # The conversation's state as stored, once read: saving compares with it instead of reading again.
    stored_state: State | _Unread | None = field(default=UNREAD, repr=False)

    @property
    def today(self) -> Any:
        return self.context["today"]


EffectHandler = Callable[[Turn, Effect], Mapping[str, Any]]
# A command handler returns None when the text is not for it after all (routing goes on).
CommandHandler = Callable[[Turn, "re.Match[str]"], list[Reply] | None]
EventHandler = Callable[[Turn], list[Reply] | None]
Starter = Callable[[Turn], str | None]  # the name of a flow to start for this resident now, if any

# Message templates said outside any flow (by the router, services and jobs), named where they are
# used with ``says``, so a test can check that every template file is used by a flow or listed here.
DIRECT_TEMPLATES: set[str] = {"general_help"}
_effects: dict[str, EffectHandler] = {}
_commands: list[tuple[re.Pattern[str], CommandHandler]] = []
_events: dict[str, EventHandler] = {}
_starters: list[Starter] = []


def says(*templates: str) -> None:
    """Declare templates an area sends directly (not through a flow)."""
    DIRECT_TEMPLATES.update(templates)


def effect(name: str) -> Callable[[EffectHandler], EffectHandler]:
    def register(fn: EffectHandler) -> EffectHandler:
        _effects[name] = fn
        return fn

    return register


def command(pattern: str) -> Callable[[CommandHandler], CommandHandler]:
    """A global command: a regular expression matched against the whole (stripped) text."""

    def register(fn: CommandHandler) -> CommandHandler:
        _commands.append((re.compile(pattern), fn))
        return fn

    return register


def event(name: str) -> Callable[[EventHandler], EventHandler]:
    def register(fn: EventHandler) -> EventHandler:
        _events[name] = fn
        return fn

    return register


def starter(fn: Starter) -> Starter:
    """A rule that starts a flow for a resident who is in none (binding, today's check-in)."""
    _starters.append(fn)
    return fn


@cache
def flows() -> dict[str, Flow]:
    return definitions.load_flows(templates=messages.template_names())


def to_inbound(msg: InboundMessage) -> Inbound:
    """The engine's view of a WeChat message."""
    if msg.msg_type == "voice":
        return Inbound("voice", text=msg.recognition, payload={"media_id": msg.media_id or ""})
    if msg.msg_type == "image":
        return Inbound("image", payload={"media_id": msg.media_id or "", "pic_url": msg.pic_url or ""})
    if msg.msg_type == "link":
        payload = {"title": msg.title or "", "description": msg.description or "", "url": msg.url or ""}
        return Inbound("link", text=msg.title, payload=payload)
    if msg.msg_type == "location":
        x, y = msg.location or (0.0, 0.0)
        return Inbound("location", text=msg.label, payload={"label": msg.label or "", "x": x, "y": y})
    if msg.msg_type == "event":
        return Inbound("event", event=msg.event or "", payload={"key": msg.event_key or ""})
    return Inbound("text", text=msg.content or "")


def make_official_account_handler(settings: Settings) -> Handler:
    def handle(db: Session, msg: InboundMessage, identity: WeChatIdentity, now: datetime) -> Replies:
        turn = Turn(db, settings, msg, identity, now, base_context(db, settings, identity, now))
        return Replies(tuple(text for text in [route(turn)] if text))

    return handle


def make_wecom_handler(settings: Settings) -> Handler:
    def handle(db: Session, msg: InboundMessage, identity: WeChatIdentity, now: datetime) -> Replies:
        turn = Turn(db, settings, msg, identity, now, base_context(db, settings, identity, now))
        handler = _events.get("wecom_message")
        replies = handler(turn) if handler else None
        return Replies(tuple(text for text in [render(turn, replies or [])] if text))

    return handle


def base_context(db: Session, settings: Settings, identity: WeChatIdentity, now: datetime) -> dict[str, Any]:
    resident = identity.resident
    return resident_context(settings, resident.name if resident else "", now)


def resident_context(settings: Settings, resident_name: str, now: datetime) -> dict[str, Any]:
    """What every message to a resident may say: their masked name, today, the hotline."""
    return {
        "today": local_today(settings.tz, now),
        "resident_name": privacy.mask_name(resident_name),
        "hotline": settings.advisories.hotline,
        "county": "兰西县",
        "monitoring_days": settings.checkin.monitoring_days,
        "retention_days": settings.privacy.retention_days,
    }


def render(turn: Turn, replies: list[Reply], results: Mapping[str, Any] | None = None) -> str:
    return messages.render_all(replies, {**turn.context, **(results or {})})


def route(turn: Turn) -> str:
    msg = turn.msg
    if msg.msg_type == "event":
        return _route_event(turn)
    text = (msg.content or msg.recognition or "").strip()
    for pattern, handler in _commands:
        match = pattern.fullmatch(text)
        replies = handler(turn, match) if match else None
        if replies is not None:
            return render(turn, replies)
    inbound = to_inbound(msg)
    state = _load_state(turn)
    if state is not None and state.flow in flows():
        return _step(turn, flows()[state.flow], state, inbound)
    triggered = definitions.flow_for(flows(), inbound)
    if triggered is not None:
        return _step(turn, triggered, None, inbound)
    if inbound.kind == "voice" and not inbound.text:
        return render(turn, [Reply("voice_unrecognized")])
    for rule in _starters:
        name = rule(turn)
        if name is not None:
            return _step(turn, flows()[name], None, inbound)
    return render(turn, [Reply("general_help")])


def _route_event(turn: Turn) -> str:
    name = turn.msg.event or ""
    if name == "unsubscribe":
        identities.unsubscribed(turn.db, turn.identity, turn.now)
    handler = _events.get(name)
    replies = handler(turn) if handler else None
    if replies:
        return render(turn, replies)
    if name == "click":
        inbound = to_inbound(turn.msg)
        triggered = definitions.flow_for(flows(), inbound)
        if triggered is not None:
            return _step(turn, triggered, None, inbound)
    if name in ("subscribe", "scan", "click"):
        return route_as_greeting(turn)
    return ""  # unsubscribe, view, template-send reports, locations: nothing to say


def route_as_greeting(turn: Turn) -> str:
    """After a follow or scan: start what the resident needs (binding, check-in), or greet."""
    for rule in _starters:
        name = rule(turn)
        if name is not None:
            return _step(turn, flows()[name], None, Inbound("event", event=turn.msg.event or ""))
    return render(turn, [Reply("general_help")])


def start_flow(turn: Turn, name: str) -> str:
    """Start a flow now (for a command or event handler) and return what the bot says."""
    return _step(turn, flows()[name], None, to_inbound(turn.msg))


def _step(turn: Turn, flow: Flow, state: State | None, inbound: Inbound) -> str:
    outcome = engine.step(flow, state, inbound, now=turn.now, context=turn.context)
    results: dict[str, Any] = {}
    replies = list(outcome.replies)
    while True:
        for eff in outcome.effects:
            handler = _effects.get(eff.name)
            if handler is None:
                log.error("flow %s emitted effect %s with no handler", flow.name, eff.name)
                continue
            results.update(handler(turn, eff))
        if outcome.state is None or not isinstance(flow.nodes.get(outcome.state.node), Wait):
            break
        # A Wait node asks the caller for a result (bind: did the details match?): answer at once.
        outcome = _answer_wait(turn, flow, outcome, results)
        replies.extend(outcome.replies)
    _save_state(turn, outcome.state)
    return render(turn, replies, results)


def _answer_wait(turn: Turn, flow: Flow, outcome: Outcome, results: Mapping[str, Any]) -> Outcome:
    payload = {key: value for key, value in results.items() if isinstance(value, str | int | float | bool)}
    return engine.step(
        flow, outcome.state, Inbound("result", payload=payload), now=turn.now, context=turn.context
    )


def _load_state(turn: Turn) -> State | None:
    if turn.stored_state is UNREAD:
        turn.stored_state = conversation_states.load(turn.db, turn.identity.id)
    return turn.stored_state


def _save_state(turn: Turn, state: State | None) -> None:
    if state == turn.stored_state:
        return
    if state is None:
        conversation_states.end(turn.db, turn.identity.id)
    else:
        conversation_states.save(turn.db, turn.identity.id, state, turn.now)
    turn.stored_state = state


def clear_state(turn: Turn) -> None:
    _save_state(turn, None)


def load_area_handlers() -> None:
    """Import the modules that register effects, commands, events and starters (idempotent)."""
    import bot.conversation_handlers  # noqa: F401


def handlers(settings: Settings) -> dict[str, Handler]:
    load_area_handlers()
    return {
        "official_account": make_official_account_handler(settings),
        "wecom": make_wecom_handler(settings),
    }
