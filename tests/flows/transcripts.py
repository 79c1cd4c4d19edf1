"""Transcript runner: conversation cases as data (tests/transcripts/*.toml), played against the engine.

A file holds ``[[case]]`` tables::

    [[case]]
    name = "checkin: normal path"      # shown when the case fails
    flow = "daily_checkin"
    now = 2020-02-15T09:30:00+08:00    # optional (default below); context, effect_results optional
    start = { node = "x", expires_in_minutes = -1, version = 1, answers = {}, unclear = {}, failures = {} }
    [[case.turn]]
    in = "1"                           # text; or {kind = "voice" ..., text, event, payload}
    minutes_later = 0                  # optional: the clock moves before this turn
    expect = ["checkin_ask_whereabouts"]          # the reply templates, in order (exactly)
    effects = [{ name = "complete_checkin", data = {health = "normal"}, nulls = ["city"] }]
                                       # effect names exactly; data a subset; nulls must be None
    says = ["还可以再试2次"]           # optional: text the rendered replies contain
    node = "whereabouts"               # optional: the node the conversation is at afterwards
    ended = true                       # optional: the conversation is over

Every reply of every turn is rendered (context + effect results + params) with the real templates,
so a missing template or an undefined variable fails the case.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.flows.engine import step
from bot.flows.graph import Flow
from bot.flows.messages import render
from bot.flows.model import Effect, Inbound, Json, Outcome, State

TRANSCRIPTS_DIR = Path(__file__).resolve().parent.parent / "transcripts"
CHINA = timezone(timedelta(hours=8))
DEFAULT_NOW = datetime(2020, 2, 15, 9, 30, tzinfo=CHINA)
# What the dispatcher gives every render, and what the services answer to effects.
DEFAULT_CONTEXT: dict[str, Any] = {"resident_name": "张*", "retention_days": 30, "monitoring_days": 14}
DEFAULT_EFFECT_RESULTS: dict[str, dict[str, Any]] = {
    "submit_tip": {"ticket": "T20200215-0042"},
    "bind_locked": {"retry_after_minutes": 30},
}


@dataclass(frozen=True)
class ExpectedEffect:
    """``data``: a subset of the effect's data; ``nulls``: keys that must be None (TOML has no null)."""

    name: str
    data: Mapping[str, Any]
    nulls: tuple[str, ...] = ()

    def mismatch(self, effect: Effect) -> bool:
        expected = {**self.data, **dict.fromkeys(self.nulls)}
        return any(key not in effect.data or effect.data[key] != value for key, value in expected.items())


@dataclass(frozen=True)
class Turn:
    inbound: Inbound
    expect: tuple[str, ...]
    effects: tuple[ExpectedEffect, ...]
    says: tuple[str, ...] = ()
    node: str | None = None
    ended: bool = False
    minutes_later: int = 0


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    flow: str
    now: datetime
    turns: tuple[Turn, ...]
    start: Mapping[str, Any] | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    effect_results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.source}: {self.name}"


def _inbound(raw: object) -> Inbound:
    if isinstance(raw, str):
        return Inbound("text", raw)
    assert isinstance(raw, dict), f"turn 'in' must be a string or a table, not {raw!r}"
    return Inbound(raw["kind"], raw.get("text"), raw.get("event", ""), raw.get("payload", {}))


def _turn(raw: Mapping[str, Any]) -> Turn:
    effects = tuple(
        ExpectedEffect(item["name"], item.get("data", {}), tuple(item.get("nulls", ())))
        for item in raw.get("effects", [])
    )
    return Turn(
        inbound=_inbound(raw["in"]),
        expect=tuple(raw["expect"]),
        effects=effects,
        says=tuple(raw.get("says", ())),
        node=raw.get("node"),
        ended=raw.get("ended", False),
        minutes_later=raw.get("minutes_later", 0),
    )


def _case(raw: Mapping[str, Any], source: str) -> Case:
    return Case(
        name=raw["name"],
        source=source,
        flow=raw["flow"],
        now=raw.get("now", DEFAULT_NOW),
        turns=tuple(_turn(turn) for turn in raw["turn"]),
        start=raw.get("start"),
        context=raw.get("context", {}),
        effect_results=raw.get("effect_results", {}),
    )


def load_cases(directory: Path = TRANSCRIPTS_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cases.extend(_case(raw, path.name) for raw in data["case"])
    return cases


def start_state(case: Case, flow: Flow) -> State | None:
    """The state a case begins in (None: the first turn starts the flow)."""
    if case.start is None:
        return None
    start = case.start
    data: dict[str, Json] = start.get("data") or {
        "answers": dict(start.get("answers", {})),
        "unclear": dict(start.get("unclear", {})),
        "failures": dict(start.get("failures", {})),
    }
    expires = case.now + timedelta(minutes=start.get("expires_in_minutes", flow.ttl.total_seconds() // 60))
    return State(flow.name, start.get("version", flow.version), start["node"], data, expires)


class TranscriptFailure(AssertionError):
    pass


@dataclass
class Player:
    """Plays one case turn by turn, keeping the clock and the state between turns."""

    case: Case
    flow: Flow
    now: datetime
    state: State | None
    context: dict[str, Any]
    log: list[str] = field(default_factory=list)

    @classmethod
    def for_case(cls, case: Case, flow: Flow) -> Player:
        context = {**DEFAULT_CONTEXT, "today": case.now.date(), **case.context}
        return cls(case, flow, case.now, start_state(case, flow), context)

    def fail(self, number: int, message: str) -> TranscriptFailure:
        transcript = "\n".join(self.log)
        return TranscriptFailure(
            f"[{self.case.label}] turn {number}: {message}\n--- transcript ---\n{transcript}"
        )

    def play(self) -> None:
        for number, turn in enumerate(self.case.turns, 1):
            self.now += timedelta(minutes=turn.minutes_later)
            outcome = step(self.flow, self.state, turn.inbound, now=self.now, context=self.context)
            text = self._render(number, turn, outcome)
            self._check(number, turn, outcome, text)
            self._check_state(number, turn, outcome.state)
            self.state = outcome.state

    def _results(self, effects: list[Effect]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for effect in effects:
            results.update(DEFAULT_EFFECT_RESULTS.get(effect.name, {}))
            results.update(self.case.effect_results.get(effect.name, {}))
        return results

    def _render(self, number: int, turn: Turn, outcome: Outcome) -> str:
        context = {**self.context, **self._results(outcome.effects)}
        texts: list[str] = []
        for reply in outcome.replies:
            try:
                texts.append(render(reply, context))
            except Exception as exc:
                raise self.fail(number, f"template {reply.template!r} does not render: {exc!r}") from exc
        text = "\n\n".join(texts)
        self.log.append(f">> {turn.inbound}\n{text}\n   effects: {outcome.effects}")
        return text

    def _check(self, number: int, turn: Turn, outcome: Outcome, text: str) -> None:
        templates = tuple(reply.template for reply in outcome.replies)
        if templates != turn.expect:
            raise self.fail(number, f"replies {list(templates)}, expected {list(turn.expect)}")
        self._check_effects(number, turn, outcome.effects)
        for snippet in turn.says:
            if snippet not in text:
                raise self.fail(number, f"the replies do not say {snippet!r}")

    def _check_effects(self, number: int, turn: Turn, effects: list[Effect]) -> None:
        names = [effect.name for effect in effects]
        if names != [expected.name for expected in turn.effects]:
            raise self.fail(number, f"effects {names}, expected {[e.name for e in turn.effects]}")
        for effect, expected in zip(effects, turn.effects, strict=True):
            if expected.mismatch(effect):
                wanted = {**expected.data, **dict.fromkeys(expected.nulls)}
                raise self.fail(number, f"effect {effect.name} data {effect.data}, expected {wanted}")

    def _check_state(self, number: int, turn: Turn, state: State | None) -> None:
        if turn.ended and state is not None:
            raise self.fail(number, f"expected the conversation to end, it waits at {state.node!r}")
        if turn.node is not None and (state is None or state.node != turn.node):
            raise self.fail(number, f"expected to wait at {turn.node!r}, got {state and state.node!r}")
        if state is not None and state is not self.state:  # a new state (an ignored event keeps the old)
            json.dumps(state.data)  # what is persisted must be JSON
            if state.expires_at != self.now + self.flow.ttl:
                raise self.fail(number, f"expires_at {state.expires_at} is not now + ttl")
