"""A conversation as a graph of nodes (loaded from bot/flows/definitions/*.toml by definitions.py).

Node kinds:
- Question: says its lead-in, asks, parses the reply, stores fields, moves on by the parsed choice.
- Wait: emits its effects and waits for the caller's ``result`` inbound (e.g. a bind attempt's outcome).
- Branch: picks the next node from an answer already given (no message of its own).
- Notice: says something (a privacy notice) and goes straight on.
- End: says goodbye, emits effects; the conversation is over.
Every node may say templates and emit effects when it is entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.flows.model import Json

# The choice key a transition table falls back on.
DEFAULT = "default"


@dataclass(frozen=True)
class Transition:
    """Go to ``to``, saying ``say`` first (e.g. "信息没有对上" before asking again)."""

    to: str
    say: tuple[str, ...] = ()


@dataclass(frozen=True)
class EffectSpec:
    """An effect to emit: ``answers`` are copied from the answers so far (None when not given),
    ``values`` are constants (e.g. reason = "unclear")."""

    name: str
    answers: tuple[str, ...] = ()
    values: Mapping[str, Json] | None = None


@dataclass(frozen=True)
class Question:
    name: str
    ask: str  # template asking the question (said again by 帮助 and after a restart)
    parser: str  # a name in parsers.REGISTRY
    store: Mapping[str, str]  # answer key -> parser field
    next: Mapping[str, Transition]  # parsed choice (or DEFAULT) -> where to go
    reask: str  # template: polite "please answer like this", listing the options
    on_unclear: Transition  # where to go after max_unclear unclear replies
    max_unclear: int = 2
    skip_if: str | None = None  # an answer key: already answered -> go straight to next[DEFAULT]
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()
    exit_effects: tuple[EffectSpec, ...] = ()  # emitted when a clear answer leaves the node


@dataclass(frozen=True)
class Retry:
    """A Wait node's failure budget: ``outcome`` counted; at ``limit`` go to ``exhausted``."""

    outcome: str
    limit: int
    exhausted: Transition


@dataclass(frozen=True)
class Wait:
    name: str
    next: Mapping[str, Transition]  # result outcome -> where to go
    retry: Retry | None = None
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()


@dataclass(frozen=True)
class Branch:
    name: str
    on: str  # an answer key
    cases: Mapping[str, Transition]  # the answer's value (as text) -> where to go; DEFAULT required
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()


@dataclass(frozen=True)
class Notice:
    name: str
    next: Transition
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()


@dataclass(frozen=True)
class End:
    name: str
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()


Node = Question | Wait | Branch | Notice | End

CommandAction = Literal["cancel", "repeat"]


@dataclass(frozen=True)
class Command:
    """Words that work at any question: ``cancel`` leaves the flow, ``repeat`` asks again."""

    words: tuple[str, ...]
    action: CommandAction
    say: tuple[str, ...] = ()
    effects: tuple[EffectSpec, ...] = ()


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    start: str
    nodes: Mapping[str, Node]
    ttl: timedelta  # a state unanswered this long is stale
    commands: tuple[Command, ...] = ()
    triggers: tuple[str, ...] = ()  # words that start this flow (for the dispatcher)
    menu_keys: tuple[str, ...] = ()  # custom-menu click keys that start it (for the dispatcher)
    restarted: str = "flow_restarted"  # template: "that conversation expired / changed, again:"
    voice_unrecognized: str = "voice_unrecognized"  # template: "could not hear it, please type"
