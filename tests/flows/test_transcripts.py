"""Every transcript case in tests/transcripts/*.toml, played against the real flows and templates."""

from __future__ import annotations

import pytest

from bot.flows.definitions import load_flows
from bot.flows.graph import Flow
from bot.flows.messages import template_names
from tests.flows.transcripts import Case, Player, load_cases

CASES = load_cases()
FLOWS: dict[str, Flow] = load_flows(templates=template_names())


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_transcript(case: Case) -> None:
    Player.for_case(case, FLOWS[case.flow]).play()


def test_there_are_enough_cases_and_every_flow_has_some() -> None:
    assert len(CASES) >= 25
    assert {case.flow for case in CASES} == set(FLOWS)
    names = [case.label for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
