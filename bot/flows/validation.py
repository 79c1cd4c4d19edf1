"""Checks on a loaded flow graph: everything it names exists, every node is reachable, nothing spins."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain

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
from bot.flows.parsers import Parser
from bot.flows.toml_table import DefinitionError


def transitions(node: Node) -> Iterator[tuple[str, Transition]]:
    """Every way out of ``node``, labelled for error messages."""
    if isinstance(node, Question):
        yield from ((f"next.{choice}", t) for choice, t in node.next.items())
        yield "on_unclear", node.on_unclear
    elif isinstance(node, Wait):
        yield from ((f"next.{outcome}", t) for outcome, t in node.next.items())
        if node.retry is not None:
            yield "retry.exhausted", node.retry.exhausted
    elif isinstance(node, Branch):
        yield from ((f"cases.{value}", t) for value, t in node.cases.items())
    elif isinstance(node, Notice):
        yield "next", node.next


def _effect_specs(flow: Flow) -> Iterator[EffectSpec]:
    for node in flow.nodes.values():
        yield from node.effects
        if isinstance(node, Question):
            yield from node.exit_effects
    for command in flow.commands:
        yield from command.effects


def referenced_templates(flow: Flow) -> set[str]:
    """Every message template the flow can say."""
    names = {flow.restarted, flow.voice_unrecognized}
    sayers: list[Node | Command] = [*flow.nodes.values(), *flow.commands]
    for sayer in sayers:
        names.update(sayer.say)
    for node in flow.nodes.values():
        if isinstance(node, Question):
            names.update((node.ask, node.reask))
        for _, transition in transitions(node):
            names.update(transition.say)
    return names


def _stored(flow: Flow) -> set[str]:
    return set(chain.from_iterable(node.store for node in flow.nodes.values() if isinstance(node, Question)))


def _check_targets(flow: Flow) -> Iterator[str]:
    if flow.start not in flow.nodes:
        yield f"start: unknown node {flow.start!r}"
    for node in flow.nodes.values():
        for label, transition in transitions(node):
            if transition.to not in flow.nodes:
                yield f"nodes.{node.name}.{label}: unknown node {transition.to!r}"


def _check_question(node: Question, parsers: Mapping[str, Parser], stored: set[str]) -> Iterator[str]:
    where = f"nodes.{node.name}"
    parser = parsers.get(node.parser)
    if parser is None:
        yield f"{where}.parser: unknown parser {node.parser!r}"
        return
    for key, source in node.store.items():
        if source not in parser.fields:
            yield f"{where}.store.{key}: parser {node.parser!r} has no field {source!r}"
    for choice in set(node.next) - parser.choices - {DEFAULT}:
        yield f"{where}.next.{choice}: parser {node.parser!r} never chooses it"
    if DEFAULT not in node.next and not parser.choices <= set(node.next):
        yield f"{where}.next: no way on for {sorted(parser.choices - set(node.next))} (add default)"
    if node.skip_if is not None and (node.skip_if not in stored or DEFAULT not in node.next):
        yield f"{where}.skip_if: needs a stored answer key and a next.default"


def _check_node(node: Node, parsers: Mapping[str, Parser], stored: set[str]) -> Iterator[str]:
    if isinstance(node, Question):
        yield from _check_question(node, parsers, stored)
    elif isinstance(node, Wait) and node.retry is not None and node.retry.outcome not in node.next:
        yield f"nodes.{node.name}.retry.outcome: {node.retry.outcome!r} has no next"
    elif isinstance(node, Branch):
        if node.on not in stored:
            yield f"nodes.{node.name}.on: no question stores {node.on!r}"
        if DEFAULT not in node.cases:
            yield f"nodes.{node.name}.cases: needs a default"


def _check_effects(flow: Flow, stored: set[str]) -> Iterator[str]:
    for spec in _effect_specs(flow):
        for key in spec.answers:
            if key not in stored:
                yield f"effect {spec.name}: no question stores {key!r}"


def _reachable(flow: Flow) -> set[str]:
    seen, todo = set[str](), [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo.extend(transition.to for _, transition in transitions(flow.nodes[name]))
    return seen


def _check_reachable(flow: Flow) -> Iterator[str]:
    reachable = _reachable(flow)
    for name in sorted(set(flow.nodes) - reachable):
        yield f"nodes.{name}: unreachable from {flow.start!r}"
    if not any(isinstance(flow.nodes[name], End) for name in reachable):
        yield "no end node is reachable"


def _passes(node: Node) -> list[str]:
    """Nodes one step can go on to without stopping at ``node``."""
    if isinstance(node, Branch):
        return [transition.to for transition in node.cases.values()]
    if isinstance(node, Notice):
        return [node.next.to]
    if isinstance(node, Question) and node.skip_if is not None and DEFAULT in node.next:
        return [node.next[DEFAULT].to]
    return []


def _check_no_spin(flow: Flow) -> Iterator[str]:
    """No cycle made only of branches, notices and skippable questions (a step would never stop)."""
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> Iterator[str]:
        if name in path:
            yield f"nodes: {' -> '.join((*path[path.index(name) :], name))} can loop without stopping"
            return
        if name in done or name not in flow.nodes:
            return
        for target in _passes(flow.nodes[name]):
            yield from visit(target, (*path, name))
        done.add(name)

    for name in flow.nodes:
        yield from visit(name, ())


def validate(
    flow: Flow, source: str, parsers: Mapping[str, Parser], templates: frozenset[str] | None
) -> None:
    """Raise DefinitionError listing every problem of ``flow`` (read from ``source``)."""
    stored = _stored(flow)
    problems = [
        *_check_targets(flow),
        *chain.from_iterable(_check_node(node, parsers, stored) for node in flow.nodes.values()),
        *_check_effects(flow, stored),
        *_check_reachable(flow),
        *_check_no_spin(flow),
    ]
    if templates is not None:
        problems += [
            f"template {name!r} not found" for name in sorted(referenced_templates(flow) - templates)
        ]
    if problems:
        raise DefinitionError(f"{source}: " + "; ".join(problems))
