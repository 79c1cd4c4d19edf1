"""The conversation engine: one pure function from (flow, state, inbound) to (state, replies, effects).

How the caller (the inbound dispatcher) uses it:
1. ``outcome = step(flow, state, inbound, now=now, context=context)``; ``state`` None starts the flow
   (the inbound that started it is not read as an answer).
2. Apply ``outcome.effects`` through services, in order, *before* rendering: each may give results
   (``submit_tip`` → {"ticket": ...}) merged into the render context.
3. A ``Wait`` node (bind) is answered by the caller at once: ``step(flow, outcome.state,
   Inbound("result", payload={"outcome": "ok" | "failed"}), ...)``; send both outcomes' replies.
4. Render every reply with messages.render(reply, context | results) and send them together.
5. Persist ``outcome.state`` (delete the row when None).

Nothing here raises on what a resident sends: stale states (expired, older flow version, unknown
node, damaged data) restart the flow politely. Only caller mistakes (a state of another flow, a
result nobody waits for, an unknown result outcome) raise ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bot.flows.graph import (
    DEFAULT,
    Branch,
    Command,
    EffectSpec,
    End,
    Flow,
    Node,
    Notice,
    Question,
    Transition,
    Wait,
)
from bot.flows.model import Effect, Inbound, Json, Outcome, Reply, State
from bot.flows.parsers import REGISTRY, Answer, Parser
from bot.flows.understanding import is_keyword

# Nodes passed through without stopping (branches, skipped questions) in one step; definitions
# are checked for such cycles at load time, this only stops a hand-built flow from spinning.
MAX_HOPS = 100

StaleReason = Literal["expired", "changed"]


def step(
    flow: Flow,
    state: State | None,
    inbound: Inbound,
    *,
    now: datetime,
    context: Mapping[str, Any],
    parsers: Mapping[str, Parser] | None = None,
) -> Outcome:
    """Answer one inbound. ``now`` must be timezone-aware; the local day used to read dates
    ("明天", "20号") is ``context["today"]`` when given (the same day the messages show), else
    ``now.date()``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state is not None and state.flow != flow.name:
        raise ValueError(f"state of flow {state.flow!r} given to flow {flow.name!r}")
    today = context.get("today")
    turn = _Turn(flow, parsers or REGISTRY, now, today if isinstance(today, date) else now.date())
    if state is None:
        return turn.start()
    reason = stale_reason(flow, state, now)
    if reason is not None or not turn.load(state.data):
        return turn.restart(reason or "changed")
    return turn.reply_to(flow.nodes[state.node], inbound, state)


def stale_reason(flow: Flow, state: State, now: datetime) -> StaleReason | None:
    """Why ``state`` can no longer be continued, or None when it can."""
    if state.version != flow.version or not isinstance(flow.nodes.get(state.node), Question | Wait):
        return "changed"
    return "expired" if now >= state.expires_at else None


def _case_key(value: Json) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


def _counts(value: Json) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    counts = {key: count for key, count in value.items() if isinstance(count, int)}
    return counts if len(counts) == len(value) else None


@dataclass
class _Turn:
    """The work of one step: the data being changed and what has been said and asked for."""

    flow: Flow
    parsers: Mapping[str, Parser]
    now: datetime
    today: date
    answers: dict[str, Json] = field(default_factory=dict)
    unclear: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Json] = field(default_factory=dict)  # step-only reply params ("remaining")
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    # --- state in and out

    def load(self, data: Mapping[str, Json]) -> bool:
        """Take the saved data; False when it is damaged (the flow then restarts)."""
        answers, unclear, failures = (
            data.get("answers"),
            _counts(data.get("unclear")),
            _counts(data.get("failures")),
        )
        if not isinstance(answers, dict) or unclear is None or failures is None:
            return False
        self.answers, self.unclear, self.failures = dict(answers), unclear, failures
        return True

    def _state(self, node: str) -> State:
        data: dict[str, Json] = {
            "answers": dict(self.answers),
            "unclear": dict(self.unclear),
            "failures": dict(self.failures),
        }
        return State(self.flow.name, self.flow.version, node, data, self.now + self.flow.ttl)

    def _outcome(self, state: State | None) -> Outcome:
        return Outcome(state, self.replies, self.effects)

    # --- beginnings

    def start(self) -> Outcome:
        return self._outcome(self._enter(Transition(self.flow.start)))

    def restart(self, reason: StaleReason) -> Outcome:
        self.answers, self.unclear, self.failures = {}, {}, {}
        self.replies.append(Reply(self.flow.restarted, {"reason": reason}))
        return self.start()

    # --- one inbound at a node

    def reply_to(self, node: Node, inbound: Inbound, state: State) -> Outcome:
        if inbound.kind == "result":
            if not isinstance(node, Wait):
                raise ValueError(f"a result arrived at {self.flow.name}.{node.name}, which waits for none")
            return self._outcome(self._result(node, inbound))
        if inbound.kind == "event":
            return self._outcome(state)  # menu clicks and the like are the dispatcher's business
        command = self._command(inbound)
        if command is not None:
            return self._run_command(command, node)
        if not isinstance(node, Question):
            return self.restart("expired")  # a message while waiting for a result: start afresh
        return self._outcome(self._answer(node, inbound))

    def _command(self, inbound: Inbound) -> Command | None:
        if inbound.kind not in ("text", "voice") or not inbound.text:
            return None
        text = inbound.text
        return next((command for command in self.flow.commands if is_keyword(text, command.words)), None)

    def _run_command(self, command: Command, node: Node) -> Outcome:
        if command.action == "cancel":
            self._say(command.say)
            self._emit(command.effects)
            return self._outcome(None)
        if not isinstance(node, Question):
            return self.restart("expired")  # nothing to repeat while waiting: start afresh
        self._say((*command.say, node.ask))
        self._emit(command.effects)
        return self._outcome(self._state(node.name))

    def _answer(self, node: Question, inbound: Inbound) -> State | None:
        if inbound.kind == "voice" and inbound.text is None:
            self._say((self.flow.voice_unrecognized, node.ask))  # not the resident's fault: no count
            return self._state(node.name)
        parser = self.parsers[node.parser]
        answer = parser.parse(inbound, self.today) if inbound.kind in parser.kinds else None
        if answer is None:
            return self._unclear(node)
        self._store(node, answer)
        self._emit(node.exit_effects)
        return self._enter(node.next.get(answer.choice) or node.next[DEFAULT])

    def _store(self, node: Question, answer: Answer) -> None:
        for key, source in node.store.items():
            self.answers[key] = answer.fields.get(source)

    def _unclear(self, node: Question) -> State | None:
        count = self.unclear.get(node.name, 0) + 1
        self.unclear[node.name] = count
        if count >= node.max_unclear:
            return self._enter(node.on_unclear)
        self._say((node.reask,))
        return self._state(node.name)

    def _result(self, node: Wait, inbound: Inbound) -> State | None:
        outcome = str(inbound.payload.get("outcome", ""))
        retry = node.retry
        if retry is not None and outcome == retry.outcome:
            count = self.failures.get(node.name, 0) + 1
            self.failures[node.name] = count
            if count >= retry.limit:
                return self._enter(retry.exhausted)
            self.extra["remaining"] = retry.limit - count
        transition = node.next.get(outcome)
        if transition is None:
            raise ValueError(f"{self.flow.name}.{node.name}: unknown result outcome {outcome!r}")
        return self._enter(transition)

    # --- moving through the graph

    def _enter(self, transition: Transition) -> State | None:
        """Follow ``transition`` through nodes that do not stop, to the one that does."""
        for _ in range(MAX_HOPS):
            self._say(transition.say)
            node = self.flow.nodes[transition.to]
            passed = self._pass(node)
            if passed is None:
                return self._stop(node)
            transition = passed
        raise RuntimeError(f"{self.flow.name}: more than {MAX_HOPS} nodes passed in one step")

    def _pass(self, node: Node) -> Transition | None:
        """Where a node that does not stop sends us; None when ``node`` stops."""
        if isinstance(node, Question) and node.skip_if and self.answers.get(node.skip_if) is not None:
            return node.next[DEFAULT]
        if isinstance(node, Branch | Notice):
            self._say(node.say)
            self._emit(node.effects)
            if isinstance(node, Notice):
                return node.next
            return node.cases.get(_case_key(self.answers.get(node.on))) or node.cases[DEFAULT]
        return None

    def _stop(self, node: Node) -> State | None:
        self._say(node.say)
        self._emit(node.effects)
        if isinstance(node, Question):
            self._say((node.ask,))
        return None if isinstance(node, End) else self._state(node.name)

    # --- output

    def _say(self, templates: tuple[str, ...]) -> None:
        for template in templates:
            self.replies.append(Reply(template, {**self.answers, **self.extra}))

    def _emit(self, specs: tuple[EffectSpec, ...]) -> None:
        for spec in specs:
            data: dict[str, Json] = {key: self.answers.get(key) for key in spec.answers}
            data.update(spec.values or {})
            self.effects.append(Effect(spec.name, data))
