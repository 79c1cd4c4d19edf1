"""Flow definitions: TOML files under bot/flows/definitions/ (graph only; wording in templates/messages).

File layout (one flow per file, named after the flow)::

    name = "daily_checkin"        version = 1          start = "health"      ttl_minutes = 720
    triggers = ["报平安"]          menu_keys = ["CHECKIN"]
    [[commands]]  words = ["取消"], action = "cancel" | "repeat", say = [...], effects = [...]
    [nodes.<name>]  kind = "question" | "wait" | "branch" | "notice" | "end", say = [...], effects = [...]
      question: ask, reask, parser, store = "key" | {key = "field"}, next = {choice = target},
                on_unclear = target, max_unclear = 2, skip_if = "answer key", exit_effects = [...]
      wait:     next = {outcome = target}, retry = {outcome, limit, exhausted = target}
      branch:   on = "answer key", cases = {value = target, default = target}
      notice:   next = target
    A target is a node name or {to = "node", say = ["template", ...]}.
    An effect is {name = "...", answers = ["answer key", ...], values = {key = constant}}.

Loading validates the graph (validation.py), so a typo fails at start-up, not mid-conversation.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from bot.flows.graph import (
    Branch,
    Command,
    EffectSpec,
    End,
    Flow,
    Node,
    Notice,
    Question,
    Retry,
    Transition,
    Wait,
)
from bot.flows.model import Inbound, Json
from bot.flows.parsers import REGISTRY, Parser
from bot.flows.toml_table import DefinitionError, Table
from bot.flows.understanding import is_keyword
from bot.flows.validation import validate

__all__ = ["DefinitionError", "definitions_dir", "flow_for", "load_flows", "parse_flow"]

_COMMAND_ACTIONS = ("cancel", "repeat")


def definitions_dir() -> Traversable:
    return resources.files("bot.flows").joinpath("definitions")


def _transition(raw: object, where: str) -> Transition:
    if isinstance(raw, str) and raw:
        return Transition(raw)
    table = Table(raw, where)
    transition = Transition(table.text("to"), table.texts("say"))
    table.done()
    return transition


def _transitions(table: Table, key: str) -> dict[str, Transition]:
    targets = table.table(key)
    return {choice: _transition(raw, f"{targets.where}.{choice}") for choice, raw in targets.raw.items()}


def _effect(table: Table) -> EffectSpec:
    values: Mapping[str, Json] | None = None
    if table.has("values"):
        values = dict(table.table("values").raw)
    spec = EffectSpec(table.text("name"), table.texts("answers"), values)
    table.done()
    return spec


def _effects(table: Table, key: str) -> tuple[EffectSpec, ...]:
    return tuple(_effect(item) for item in table.tables(key))


def _store(table: Table) -> dict[str, str]:
    raw = table.value("store")
    if isinstance(raw, str) and raw:
        return {raw: "value"}
    store = table.table("store")
    for key, source in store.raw.items():
        if not isinstance(source, str):
            raise store.error(key, "expected the name of a parser field")
    return dict(store.raw)


def _question(table: Table, name: str) -> Question:
    return Question(
        name=name,
        ask=table.text("ask"),
        parser=table.text("parser"),
        store=_store(table),
        next=_transitions(table, "next"),
        reask=table.text("reask"),
        on_unclear=_transition(table.value("on_unclear"), f"{table.where}.on_unclear"),
        max_unclear=table.number("max_unclear", 2),
        skip_if=table.optional_text("skip_if"),
        say=table.texts("say"),
        effects=_effects(table, "effects"),
        exit_effects=_effects(table, "exit_effects"),
    )


def _wait(table: Table, name: str) -> Wait:
    retry = None
    if table.has("retry"):
        raw = table.table("retry")
        exhausted = _transition(raw.value("exhausted"), f"{raw.where}.exhausted")
        retry = Retry(raw.text("outcome"), raw.number("limit"), exhausted)
        raw.done()
    return Wait(name, _transitions(table, "next"), retry, table.texts("say"), _effects(table, "effects"))


def _branch(table: Table, name: str) -> Branch:
    return Branch(
        name, table.text("on"), _transitions(table, "cases"), table.texts("say"), _effects(table, "effects")
    )


def _notice(table: Table, name: str) -> Notice:
    next_ = _transition(table.value("next"), f"{table.where}.next")
    return Notice(name, next_, table.texts("say"), _effects(table, "effects"))


def _end(table: Table, name: str) -> End:
    return End(name, table.texts("say"), _effects(table, "effects"))


_NODE_BUILDERS: dict[str, Callable[[Table, str], Node]] = {
    "question": _question,
    "wait": _wait,
    "branch": _branch,
    "notice": _notice,
    "end": _end,
}


def _node(table: Table, name: str) -> Node:
    kind = table.text("kind")
    builder = _NODE_BUILDERS.get(kind)
    if builder is None:
        raise table.error("kind", f"expected one of {', '.join(_NODE_BUILDERS)}")
    node = builder(table, name)
    table.done()
    return node


def _command(table: Table) -> Command:
    action = table.text("action")
    if action not in _COMMAND_ACTIONS:
        raise table.error("action", f"expected one of {', '.join(_COMMAND_ACTIONS)}")
    words = table.texts("words")
    if not words:
        raise table.error("words", "expected at least one word")
    command = Command(
        words, "cancel" if action == "cancel" else "repeat", table.texts("say"), _effects(table, "effects")
    )
    table.done()
    return command


def _flow(top: Table) -> Flow:
    nodes_table = top.table("nodes")
    nodes = {
        name: _node(Table(raw, f"{nodes_table.where}.{name}"), name) for name, raw in nodes_table.raw.items()
    }
    flow = Flow(
        name=top.text("name"),
        version=top.number("version"),
        start=top.text("start"),
        nodes=nodes,
        ttl=timedelta(minutes=top.number("ttl_minutes")),
        commands=tuple(_command(item) for item in top.tables("commands")),
        triggers=top.texts("triggers"),
        menu_keys=top.texts("menu_keys"),
        restarted=top.text("restarted", "flow_restarted"),
        voice_unrecognized=top.text("voice_unrecognized", "voice_unrecognized"),
    )
    top.done()
    return flow


def parse_flow(
    text: str,
    source: str,
    *,
    parsers: Mapping[str, Parser] | None = None,
    templates: Iterable[str] | None = None,
) -> Flow:
    """A flow from TOML text; ``source`` names it in errors. ``templates``: the message templates
    that exist (every one the flow names must be among them); None skips that check."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{source}: {exc}") from exc
    flow = _flow(Table(raw, source))
    validate(flow, source, parsers or REGISTRY, None if templates is None else frozenset(templates))
    return flow


def load_flows(
    directory: Traversable | None = None,
    *,
    parsers: Mapping[str, Parser] | None = None,
    templates: Iterable[str] | None = None,
) -> dict[str, Flow]:
    """Every ``*.toml`` flow in ``directory`` (default: bot/flows/definitions), by name."""
    known = None if templates is None else frozenset(templates)
    flows: dict[str, Flow] = {}
    folder = directory or definitions_dir()
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".toml"):
            continue
        flow = parse_flow(entry.read_text(encoding="utf-8"), entry.name, parsers=parsers, templates=known)
        if entry.name != f"{flow.name}.toml":
            raise DefinitionError(f"{entry.name}: holds flow {flow.name!r}; name the file after it")
        flows[flow.name] = flow
    return flows


def flow_for(flows: Mapping[str, Flow], inbound: Inbound) -> Flow | None:
    """The flow this inbound starts: a trigger word ("举报") or a menu click key; None otherwise."""
    if inbound.kind == "event":
        key = str(inbound.payload.get("key", ""))
        return next((flow for flow in flows.values() if key and key in flow.menu_keys), None)
    if inbound.kind not in ("text", "voice") or not inbound.text:
        return None
    text = inbound.text
    return next((flow for flow in flows.values() if flow.triggers and is_keyword(text, flow.triggers)), None)
