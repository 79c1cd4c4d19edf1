"""Sending the day's check-in prompt and reminder, and closing the day, for a chunk of residents.

The jobs (bot.checkin_jobs) walk the registry in chunks and call these per chunk, committing
after each. Per resident:
- no usable WeChat (never bound, or unfollowed) → straight to today's phone list (reason unbound);
- the 48 h customer-service window is open → the daily_checkin flow's first question as a chat
  message (its conversation state saved, so the reply is read as the answer), falling back to
  the template message if WeChat says the window closed meanwhile;
- otherwise → a template message whose link opens the mobile check-in page.
Every send is an outbox row keyed ``checkin:<resident>:<day>:prompt`` (or ``:reminder``), and a
check-in already prompted is skipped, so a job run twice the same day sends nothing twice.

A million residents are prompted in minutes because nothing here is per-resident SQL: residents
arrive as plain column values, and a chunk's check-ins, outbox rows, conversation states and
window counts are each written by one statement. The wording differs between residents only by
their masked name, so it is rendered once per masked name (``Wording``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.config import Settings
from bot.flows import engine, messages
from bot.flows.graph import Flow, Question
from bot.flows.model import Inbound, Reply, State
from bot.models import Checkin, ConversationState, Resident, WeChatIdentity
from bot.services import checkins, conversation_states, identities, outbox

Kind = Literal["prompt", "reminder"]
ContextFn = Callable[[str], Mapping[str, Any]]  # a resident's name → what messages may say to them
FLOW = "daily_checkin"

# What a chunk query selects per resident (outer-joined to their identity on the account).
COLUMNS = (
    Resident.id,
    Resident.station_id,
    Resident.name,
    WeChatIdentity.id,
    WeChatIdentity.openid,
    WeChatIdentity.subscribed,
    WeChatIdentity.last_user_message_at,
    WeChatIdentity.window_sends,
)


@dataclass(frozen=True)
class Target:
    """A resident of the chunk and their WeChat identity, as plain values (a million ORM objects
    would cost minutes); the identity fields are empty when the resident never bound."""

    resident_id: int
    station_id: int
    name: str
    identity_id: int | None
    openid: str
    subscribed: bool
    last_user_message_at: datetime | None
    window_sends: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Target:
        resident_id, station_id, name, identity_id, openid, subscribed, last, sends = row
        return cls(
            resident_id, station_id, name, identity_id, openid or "", bool(subscribed), last, sends or 0
        )

    @property
    def usable(self) -> bool:
        """Bound and still following: a message can reach them."""
        return self.identity_id is not None and self.subscribed


@dataclass(frozen=True)
class Prompter:
    """What wording and addressing the prompts need, fixed for one job run."""

    settings: Settings
    flow: Flow  # the daily_checkin flow
    h5_url: str  # the web-authorization link that opens /h5/checkin
    context: ContextFn


def _render(name: str, context: Mapping[str, Any]) -> str:
    return messages.render(Reply(f"checkins/{name}"), context)


def template_payload(prompter: Prompter, context: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """The template message: greeting, the day, and the link to the mobile page."""
    values = {**context, "kind": kind}
    return {
        "template_id": prompter.settings.wechat.checkin_template_id,
        "url": prompter.h5_url,
        "data": {
            "first": {"value": _render("checkin_template_first", values)},
            "keyword1": {"value": str(values.get("resident_name", ""))},
            "keyword2": {"value": _render("checkin_template_item", values)},
            "remark": {"value": _render("checkin_template_remark", values)},
        },
    }


@dataclass
class Wording:
    """The day's texts for one job run. A resident's context differs from another's only by the
    masked name (``conversations.resident_context``), so each text is rendered once per masked
    name: at 13,000 residents a few hundred renderings, not tens of thousands."""

    prompter: Prompter
    day: date
    now: datetime
    start: State | None = None  # the flow's opening state: the same for everyone this run
    _templates: dict[tuple[str, Kind], dict[str, Any]] = field(default_factory=dict)
    _openings: dict[str, str] = field(default_factory=dict)

    def context(self, name: str) -> dict[str, Any]:
        return {**self.prompter.context(name), "today": self.day}

    def template(self, name: str, kind: Kind) -> dict[str, Any]:
        key = (privacy.mask_name(name), kind)
        if key not in self._templates:
            self._templates[key] = template_payload(self.prompter, self.context(name), kind)
        return self._templates[key]

    def opening(self, name: str) -> str:
        """The flow's first question as a chat message; ``start`` is the state it leaves."""
        masked = privacy.mask_name(name)
        if masked not in self._openings:
            context = self.context(name)
            outcome = engine.step(
                self.prompter.flow, None, Inbound("event", event="start"), now=self.now, context=context
            )
            assert outcome.state is not None
            self.start = outcome.state
            self._openings[masked] = messages.render_all(outcome.replies, context)
        return self._openings[masked]

    def reminder_lead(self, name: str) -> str:
        return _render("checkin_reminder_lead", self.context(name))


@dataclass
class _Chunk:
    """One chunk's sends, collected and then written with one statement per table. The chunk's
    residents are consecutive by id, so its identities are selected by that range, not by a list
    of thousands of ids."""

    db: Session
    wording: Wording
    identities: Select[int]  # ids of the chunk's residents' identities on this account
    states: dict[int, Row[Any]]  # live conversation states of those identities
    messages: list[outbox.Message] = field(default_factory=list)
    window_sends: list[int] = field(default_factory=list)  # identities whose window a chat message uses
    saves: dict[int, State] = field(default_factory=dict)  # identity id → conversation state to save

    @classmethod
    def load(cls, db: Session, wording: Wording, targets: Sequence[Target]) -> _Chunk:
        ids = [t.resident_id for t in targets] or [0]
        chunk_identities = select(WeChatIdentity.id).where(
            WeChatIdentity.resident_id.between(min(ids), max(ids)),
            WeChatIdentity.account == wording.prompter.settings.wechat.app_id,
        )
        live = db.execute(
            select(
                ConversationState.identity_id,
                ConversationState.flow,
                ConversationState.node,
                ConversationState.data,
            ).where(
                ConversationState.identity_id.in_(chunk_identities.scalar_subquery()),
                ConversationState.expires_at > wording.now,
            )
        )
        return cls(db, wording, chunk_identities, {row.identity_id: row for row in live})

    def _chat_text(self, target: Target, kind: Kind) -> str | None:
        """The chat message to send, noting the conversation it opens; None when a template must go instead.

        A resident in the middle of another conversation (a tip, binding) is not interrupted; one
        half-way through today's check-in is reminded of the question they are at."""
        assert target.identity_id is not None
        live = self.states.get(target.identity_id)
        wording = self.wording
        if live is not None:
            node = wording.prompter.flow.nodes.get(live.node)
            if live.flow != FLOW or kind == "prompt" or not isinstance(node, Question):
                return None
            ask = messages.render(
                Reply(node.ask, dict(live.data.get("answers") or {})), wording.context(target.name)
            )
            return f"{wording.reminder_lead(target.name)}\n\n{ask}"
        text = wording.opening(target.name)
        assert wording.start is not None
        self.saves[target.identity_id] = wording.start
        return f"{wording.reminder_lead(target.name)}\n\n{text}" if kind == "reminder" else text

    def send(self, target: Target, kind: Kind) -> str:
        """Queue the prompt or reminder for one resident; the channel used."""
        assert target.identity_id is not None
        template = self.wording.template(target.name, kind)
        key = f"checkin:{target.resident_id}:{self.wording.day.isoformat()}:{kind}"
        window = identities.window_open(target, self.wording.now)
        text = self._chat_text(target, kind) if window else None
        if text is None:
            self.messages.append(outbox.Message(key, "oa_template", target.openid, template))
            return "oa_template"
        payload = {
            "msgtype": "text",
            "text": {"content": text},
            "fallback": {"channel": "oa_template", "payload": template},
        }
        self.messages.append(outbox.Message(key, "oa_custom", target.openid, payload))
        self.window_sends.append(target.identity_id)
        return "oa_custom"

    def flush(self) -> None:
        # Every message here is new: a check-in opened (or reminded) in this transaction has had no
        # prompt (reminder) yet, and its key names the resident, the day and the kind.
        outbox.enqueue_many(self.db, self.messages)
        identities.note_window_sends(self.db, self.window_sends)
        # Yesterday's unanswered check-in would greet a reply to today's template with "that timed
        # out"; a chat prompt's new state replaces it anyway.
        self.db.execute(
            delete(ConversationState).where(
                ConversationState.identity_id.in_(self.identities.scalar_subquery()),
                ConversationState.flow == FLOW,
                ConversationState.expires_at <= self.wording.now,
            )
        )
        conversation_states.save_many(self.db, self.saves)


def open_day(db: Session, wording: Wording, targets: Sequence[Target]) -> Counter[str]:
    """Open the day's check-ins of these residents and prompt those not prompted yet."""
    opened = checkins.open_many(
        db,
        wording.day,
        wording.now,
        to_prompt=[(t.resident_id, t.station_id) for t in targets if t.usable],
        unbound=[(t.resident_id, t.station_id) for t in targets if not t.usable],
    )
    chunk = _Chunk.load(db, wording, [t for t in targets if t.resident_id in opened and t.usable])
    counts: Counter[str] = Counter()
    counts["already"] = len(targets) - len(opened)
    for target in targets:
        if target.resident_id not in opened:
            continue
        counts[chunk.send(target, "prompt") if target.usable else "phone_list"] += 1
    chunk.flush()
    return counts


def remind(db: Session, wording: Wording, targets: Sequence[Target]) -> Counter[str]:
    """A reminder to residents prompted today who have not answered (once)."""
    waiting_ids = checkins.awaiting_reminder(db, [t.resident_id for t in targets if t.usable], wording.day)
    waiting = [t for t in targets if t.resident_id in waiting_ids]
    chunk = _Chunk.load(db, wording, waiting)
    counts: Counter[str] = Counter(chunk.send(t, "reminder") for t in waiting)
    checkins.mark_reminded(db, [t.resident_id for t in waiting], wording.day, wording.now)
    chunk.flush()
    return counts


def close(db: Session, day_checkins: Sequence[Checkin], now: datetime) -> int:
    """Still unanswered at close time: on the station's phone list (reason silent)."""
    return sum(checkins.to_phone_list(checkin, "silent", now) for checkin in day_checkins)
