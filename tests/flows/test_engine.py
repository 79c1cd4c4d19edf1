"""The engine, the definition loader and its checks, the parsers registry and the message renderer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from bot.flows import parsers
from bot.flows.definitions import DefinitionError, flow_for, load_flows, parse_flow
from bot.flows.engine import MAX_HOPS, stale_reason, step
from bot.flows.graph import Branch, End, Flow, Transition
from bot.flows.messages import cn_date, make_environment, render, render_all, template_names
from bot.flows.model import Inbound, Reply, State
from bot.flows.parsers import Answer, Parser
from bot.flows.validation import referenced_templates
from tests.flows.transcripts import Case, Player, TranscriptFailure, Turn

NOW = datetime(2020, 2, 15, 9, 30, tzinfo=timezone(timedelta(hours=8)))
FLOWS = load_flows()
CHECKIN = FLOWS["daily_checkin"]
START = Inbound("event", event="start")

MINIMAL = """
name = "mini"
version = 3
start = "ask"
ttl_minutes = 10
triggers = ["开始"]
menu_keys = ["MINI"]

[[commands]]
words = ["取消"]
action = "cancel"
say = ["bye"]

[nodes.ask]
kind = "question"
ask = "ask"
reask = "reask"
parser = "yes_no"
store = "agreed"
next = { yes = "done", default = "branch" }
on_unclear = "done"

[nodes.branch]
kind = "branch"
on = "agreed"
cases = { false = { to = "done", say = ["no"] }, default = "done" }

[nodes.done]
kind = "end"
say = ["done"]
effects = [{ name = "finished", answers = ["agreed"], values = { source = "mini" } }]
"""


def mini(text: str = MINIMAL, **kwargs: object) -> Flow:
    return parse_flow(text, "mini.toml", **kwargs)  # type: ignore[arg-type]


def run(
    flow: Flow, state: State | None, inbound: Inbound, now: datetime = NOW
) -> tuple[State | None, list[str]]:
    outcome = step(flow, state, inbound, now=now, context={"today": now.date()})
    return outcome.state, [reply.template for reply in outcome.replies]


# --- the engine


def test_a_minimal_flow_runs_from_start_to_end_with_effects_and_params() -> None:
    state, said = run(mini(), None, Inbound("text", "开始"))
    assert said == ["ask"] and state is not None
    assert (state.flow, state.version, state.node) == ("mini", 3, "ask")
    assert state.expires_at == NOW + timedelta(minutes=10)
    outcome = step(mini(), state, Inbound("text", "不是"), now=NOW, context={})
    assert outcome.state is None
    assert [reply.template for reply in outcome.replies] == ["no", "done"]
    assert outcome.replies[-1].params == {"agreed": False}
    assert [(effect.name, effect.data) for effect in outcome.effects] == [
        ("finished", {"agreed": False, "source": "mini"})
    ]


def test_the_starting_message_is_not_read_as_an_answer() -> None:
    state, said = run(CHECKIN, None, Inbound("text", "1"))
    assert said == ["checkin_greeting", "checkin_ask_health"]
    assert state is not None and state.node == "health" and state.data["answers"] == {}


def test_each_step_returns_a_new_state_and_leaves_the_old_one_alone() -> None:
    state, _ = run(CHECKIN, None, START)
    assert state is not None
    before = repr(state)
    after, _ = run(CHECKIN, state, Inbound("text", "不太清楚"))
    assert repr(state) == before
    assert after is not None and after.data["unclear"] == {"health": 1}


def test_stale_reason() -> None:
    state, _ = run(CHECKIN, None, START)
    assert state is not None
    assert stale_reason(CHECKIN, state, NOW) is None
    assert stale_reason(CHECKIN, state, state.expires_at) == "expired"
    assert stale_reason(CHECKIN, replace(state, version=2), NOW) == "changed"
    assert stale_reason(CHECKIN, replace(state, node="closing"), NOW) == "changed"  # a branch never waits


def test_the_return_plan_is_read_against_the_callers_today() -> None:
    state = State(
        "daily_checkin", 1, "return_plan", {"answers": {}, "unclear": {}, "failures": {}}, NOW + CHECKIN.ttl
    )
    # Just after midnight UTC+8 the UTC date is still yesterday: the context's day wins.
    outcome = step(CHECKIN, state, Inbound("text", "明天"), now=NOW, context={"today": date(2020, 2, 20)})
    assert outcome.effects[0].data["return_date"] == "2020-02-21"
    outcome = step(CHECKIN, state, Inbound("text", "明天"), now=NOW, context={})
    assert outcome.effects[0].data["return_date"] == "2020-02-16"


def test_caller_mistakes_raise() -> None:
    state, _ = run(CHECKIN, None, START)
    assert state is not None
    with pytest.raises(ValueError, match="state of flow 'daily_checkin'"):
        run(FLOWS["bind"], state, Inbound("text", "1"))
    with pytest.raises(ValueError, match="timezone-aware"):
        run(CHECKIN, state, Inbound("text", "1"), now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="waits for none"):
        run(CHECKIN, state, Inbound("result", payload={"outcome": "ok"}))
    bind_state = State(
        "bind", 1, "verify", {"answers": {}, "unclear": {}, "failures": {}}, NOW + timedelta(1)
    )
    with pytest.raises(ValueError, match="unknown result outcome 'maybe'"):
        run(FLOWS["bind"], bind_state, Inbound("result", payload={"outcome": "maybe"}))


def test_a_hand_built_flow_that_spins_is_stopped() -> None:
    spin = Flow(
        name="spin",
        version=1,
        start="a",
        nodes={
            "a": Branch("a", "x", {"default": Transition("b")}),
            "b": Branch("b", "x", {"default": Transition("a")}),
            "end": End("end"),
        },
        ttl=timedelta(minutes=1),
    )
    with pytest.raises(RuntimeError, match=str(MAX_HOPS)):
        run(spin, None, START)


def test_a_registered_parser_can_be_used_by_a_flow() -> None:
    def even(inbound: Inbound, today: date) -> Answer | None:
        text = (inbound.text or "").strip()
        return (
            Answer("even" if int(text) % 2 == 0 else "odd", {"value": int(text)}) if text.isdigit() else None
        )

    registry = {**parsers.REGISTRY, "parity": Parser(even, frozenset({"value"}), frozenset({"even", "odd"}))}
    text = MINIMAL.replace('parser = "yes_no"', 'parser = "parity"').replace(
        'next = { yes = "done", default = "branch" }', 'next = { even = "done", odd = "branch" }'
    )
    flow = mini(text, parsers=registry)
    state, _ = run(flow, None, START)
    outcome = step(flow, state, Inbound("text", "42"), now=NOW, context={}, parsers=registry)
    assert outcome.effects[0].data == {"agreed": 42, "source": "mini"}
    with pytest.raises(DefinitionError, match="unknown parser 'parity'"):
        mini(text)


def test_register_refuses_a_name_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):
        parsers.register("health", parsers.REGISTRY["health"])


# --- the parsers the flows name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", {"phone": "13812345678", "id_suffix": None}),
        ("138-1234-5678", {"phone": "13812345678", "id_suffix": None}),
        ("01123x", {"id_suffix": "01123X", "phone": None}),
        ("230123199001011234", {"id_suffix": "011234", "phone": None}),
        ("1234567", None),
        ("12345y", None),
        ("23812345678", None),
    ],
)
def test_id_or_phone(text: str, expected: dict[str, str | None] | None) -> None:
    answer = parsers.REGISTRY["id_or_phone"].parse(Inbound("text", text), NOW.date())
    assert (answer and answer.fields) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("我叫 李四", "李四"),
        ("姓名：买买提·艾力", "买买提·艾力"),
        ("王", None),
        ("abc", None),
    ],
)
def test_person_name(text: str, expected: str | None) -> None:
    answer = parsers.REGISTRY["person_name"].parse(Inbound("text", text), NOW.date())
    assert (answer and answer.fields["value"]) == expected


def test_free_text_needs_something_to_keep() -> None:
    parse = parsers.REGISTRY["free_text"].parse
    assert parse(Inbound("link", payload={"title": "标题"}), NOW.date()) is None  # no url
    assert parse(Inbound("image", payload={}), NOW.date()) is None  # no media id
    assert parse(Inbound("text", " 🙂 "), NOW.date()) is None
    long = parse(Inbound("text", "谣" * 5000), NOW.date())
    assert long is not None and len(str(long.fields["value"])) == parsers.FREE_TEXT_MAX


# --- definitions: loading and checking


def test_shipped_flows_load_with_their_templates() -> None:
    assert set(load_flows(templates=template_names())) == {"daily_checkin", "bind", "rumor_tip", "unbind"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ttl_minutes = 10", 'ttl_minutes = 10\ncolour = "red"', "mini.toml: unknown key\\(s\\) colour"),
        ('on_unclear = "done"', 'on_unclear = "gone"', "nodes.ask.on_unclear: unknown node 'gone'"),
        ('store = "agreed"', 'store = { agreed = "colour" }', "store.agreed: parser 'yes_no' has no field"),
        ('yes = "done", default = "branch"', 'yes = "done"', "no way on for \\['no'\\]"),
        ('yes = "done",', 'maybe = "done", yes = "done",', "next.maybe: parser 'yes_no' never chooses it"),
        ('on = "agreed"', 'on = "mood"', "nodes.branch.on: no question stores 'mood'"),
        ('answers = ["agreed"]', 'answers = ["mood"]', "effect finished: no question stores 'mood'"),
        ('kind = "end"', 'kind = "finish"', "nodes.done.kind: expected one of"),
        ('action = "cancel"', 'action = "explode"', "action: expected one of cancel, repeat"),
        ("version = 3", "version = 0", "version: expected a whole number of at least 1"),
        ('start = "ask"', 'start = "ask', "mini.toml: "),
        ('parser = "yes_no"', 'parser = "yes_no"\nskip_if = "mood"', "skip_if: needs a stored answer key"),
    ],
)
def test_definition_errors_name_the_file_and_the_key(old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    with pytest.raises(DefinitionError, match=message):
        mini(MINIMAL.replace(old, new, 1))


def test_unreachable_nodes_and_loops_without_a_stop_are_refused() -> None:
    orphan = MINIMAL + '\n[nodes.orphan]\nkind = "end"\n'
    with pytest.raises(DefinitionError, match=r"nodes\.orphan: unreachable"):
        mini(orphan)
    loop = MINIMAL.replace(
        'cases = { false = { to = "done", say = ["no"] }, default = "done" }', 'cases = { default = "loop" }'
    )
    loop += '\n[nodes.loop]\nkind = "notice"\nnext = "branch"\n'
    with pytest.raises(DefinitionError, match="branch -> loop -> branch can loop"):
        mini(loop)


def test_missing_templates_are_found_at_load_time() -> None:
    with pytest.raises(DefinitionError, match="template 'reask' not found"):
        mini(templates={"ask", "bye", "no", "done", "flow_restarted", "voice_unrecognized"})


def test_a_file_must_be_named_after_its_flow(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"other\.toml: holds flow 'mini'"):
        load_flows(tmp_path)
    (tmp_path / "other.toml").rename(tmp_path / "mini.toml")
    assert list(load_flows(tmp_path)) == ["mini"]


def test_flow_for_finds_the_flow_a_message_or_menu_click_starts() -> None:
    assert flow_for(FLOWS, Inbound("text", "举报！")) is FLOWS["rumor_tip"]
    assert flow_for(FLOWS, Inbound("voice", "报平安。")) is FLOWS["daily_checkin"]
    assert flow_for(FLOWS, Inbound("text", "解绑")) is FLOWS["unbind"]
    assert flow_for(FLOWS, Inbound("event", event="CLICK", payload={"key": "TIP"})) is FLOWS["rumor_tip"]
    assert flow_for(FLOWS, Inbound("event", event="CLICK", payload={"key": "NEWS"})) is None
    assert flow_for(FLOWS, Inbound("text", "今天天气不错")) is None
    assert flow_for(FLOWS, Inbound("image", payload={"media_id": "M"})) is None


# --- messages


def test_every_template_is_used_by_a_flow_and_every_used_one_exists() -> None:
    from bot.conversations import DIRECT_TEMPLATES, load_area_handlers

    load_area_handlers()  # areas declare the templates they send outside flows
    used = set().union(*(referenced_templates(flow) for flow in FLOWS.values()))
    assert used <= set(template_names())
    assert set(template_names()) == used | DIRECT_TEMPLATES


def test_templates_render_strictly_and_in_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("您好，{{ name }}！\n", encoding="utf-8")
    (tmp_path / "evil.txt").write_text("{{ name.__class__.__mro__ }}", encoding="utf-8")
    (tmp_path / "_part.txt").write_text("partial", encoding="utf-8")
    env = make_environment(tmp_path)
    assert render(Reply("hello", {"name": "张*"}), {"name": "ignored"}, env) == "您好，张*！"
    assert render(Reply("hello"), {"name": "李*"}, env) == "您好，李*！"
    with pytest.raises(UndefinedError):
        render(Reply("hello"), {}, env)
    with pytest.raises(SecurityError):
        render(Reply("evil"), {"name": "x"}, env)
    assert template_names(tmp_path) == {"hello", "evil"}
    assert render_all([Reply("hello"), Reply("hello")], {"name": "王*"}, env) == "您好，王*！\n\n您好，王*！"


def test_cn_date() -> None:
    assert cn_date("2020-02-20") == "2月20日"
    assert cn_date(date(2020, 3, 1)) == "3月1日"


# --- the transcript runner itself


def test_the_runner_names_the_case_that_fails() -> None:
    turn = Turn(inbound=START, expect=("checkin_ask_health",), effects=())
    case = Case(name="deliberately wrong", source="inline", flow="daily_checkin", now=NOW, turns=(turn,))
    with pytest.raises(TranscriptFailure, match=r"\[inline: deliberately wrong\] turn 1: replies"):
        Player.for_case(case, CHECKIN).play()
