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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.config import Settings
from bot.flows import engine, messages
from bot.flows.graph import Flow, Question
from bot.flows.model import Inbound, Reply, State
from bot.models import Checkin, CheckinStatus, ConversationState, Resident, WeChatIdentity
from bot.services import checkins, identities, outbox

Kind = Literal["prompt", "reminder"]
Row = tuple[Resident, "WeChatIdentity | None"]
ContextFn = Callable[[Session, WeChatIdentity], Mapping[str, Any]]
FLOW = "daily_checkin"


@dataclass(frozen=True)
class Prompter:
    """What wording and addressing the prompts need, fixed for one job run."""

    settings: Settings
    flow: Flow  # the daily_checkin flow
    h5_url: str  # the web-authorization link that opens /h5/checkin
    context: ContextFn  # the conversation's render context for an identity (resident attached)


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


def save_state(
    db: Session, identity: WeChatIdentity, state: State, row: ConversationState | None
) -> ConversationState:
    """Persist a conversation state as the router does (one row per identity)."""
    if row is None:
        row = ConversationState(identity_id=identity.id)
        db.add(row)
    row.flow, row.version, row.node = state.flow, state.version, state.node
    row.data, row.expires_at = dict(state.data), state.expires_at
    return row


def _live(row: ConversationState | None, now: datetime) -> bool:
    return row is not None and row.expires_at > now


@dataclass
class _Chunk:
    """One chunk's sending: its residents' conversation states loaded at once, not one query each."""

    db: Session
    prompter: Prompter
    day: date
    now: datetime
    states: dict[int, ConversationState]

    @classmethod
    def load(cls, db: Session, prompter: Prompter, rows: Sequence[Row], day: date, now: datetime) -> _Chunk:
        ids = [identity.id for _, identity in rows if identity is not None]
        if not ids:
            return cls(db, prompter, day, now, {})
        found = db.scalars(select(ConversationState).where(ConversationState.identity_id.in_(ids)))
        return cls(db, prompter, day, now, {state.identity_id: state for state in found})

    def _chat_text(self, identity: WeChatIdentity, context: Mapping[str, Any], kind: Kind) -> str | None:
        """The chat message to send, saving the conversation it opens; None when a template must go instead.

        A resident in the middle of another conversation (a tip, binding) is not interrupted; one
        half-way through today's check-in is reminded of the question they are at."""
        row = self.states.get(identity.id)
        flow = self.prompter.flow
        if row is not None and _live(row, self.now):
            node = flow.nodes.get(row.node)
            if row.flow != FLOW or kind == "prompt" or not isinstance(node, Question):
                return None
            ask = messages.render(Reply(node.ask, dict(row.data.get("answers") or {})), context)
            return f"{_render('checkin_reminder_lead', context)}\n\n{ask}"
        outcome = engine.step(flow, None, Inbound("event", event="start"), now=self.now, context=context)
        assert outcome.state is not None
        self.states[identity.id] = save_state(self.db, identity, outcome.state, row)
        text = messages.render_all(outcome.replies, context)
        return f"{_render('checkin_reminder_lead', context)}\n\n{text}" if kind == "reminder" else text

    def _drop_stale_checkin_state(self, identity: WeChatIdentity) -> None:
        # Yesterday's unanswered check-in would greet a reply to today's template with "that timed out".
        row = self.states.get(identity.id)
        if row is not None and row.flow == FLOW and not _live(row, self.now):
            self.db.delete(row)
            del self.states[identity.id]

    def send(self, resident: Resident, identity: WeChatIdentity, kind: Kind) -> str:
        """Queue the prompt or reminder for one resident; the channel used."""
        set_committed_value(identity, "resident", resident)
        context = {**self.prompter.context(self.db, identity), "today": self.day}
        template = template_payload(self.prompter, context, kind)
        key = f"checkin:{resident.id}:{self.day.isoformat()}:{kind}"
        text = (
            self._chat_text(identity, context, kind) if identities.window_open(identity, self.now) else None
        )
        if text is None:
            self._drop_stale_checkin_state(identity)
            outbox.enqueue(
                self.db, key=key, channel="oa_template", recipient=identity.openid, payload=template
            )
            return "oa_template"
        payload = {
            "msgtype": "text",
            "text": {"content": text},
            "fallback": {"channel": "oa_template", "payload": template},
        }
        if outbox.enqueue(
            self.db, key=key, channel="oa_custom", recipient=identity.openid, payload=payload
        ).created:
            identities.note_window_send(identity)
        return "oa_custom"


def _usable(identity: WeChatIdentity | None) -> bool:
    return identity is not None and identity.subscribed


def open_day(db: Session, prompter: Prompter, rows: Sequence[Row], day: date, now: datetime) -> Counter[str]:
    """Create the day's check-ins of these residents and prompt those not prompted yet."""
    checkins.ensure_rows(db, [(r.id, r.station_id) for r, _ in rows], day)
    today = checkins.for_day(db, [r.id for r, _ in rows], day)
    chunk = _Chunk.load(db, prompter, rows, day, now)
    counts: Counter[str] = Counter()
    with db.no_autoflush:  # one flush per chunk, not one per resident
        for resident, identity in rows:
            checkin = today[resident.id]
            if checkin.status != CheckinStatus.PENDING:
                counts["already"] += 1
            elif identity is None or not _usable(identity):  # never bound, or unfollowed
                checkins.to_phone_list(checkin, "unbound", now)
                counts["phone_list"] += 1
            else:
                counts[chunk.send(resident, identity, "prompt")] += 1
                checkins.mark_prompted(checkin, now)
    return counts


def remind(db: Session, prompter: Prompter, rows: Sequence[Row], day: date, now: datetime) -> Counter[str]:
    """A reminder to residents prompted today who have not answered (once)."""
    today = checkins.for_day(db, [r.id for r, _ in rows], day)
    waiting = [
        (resident, identity, checkin)
        for resident, identity in rows
        if (checkin := today.get(resident.id)) is not None
        and checkin.status in (CheckinStatus.PROMPTED, CheckinStatus.IN_PROGRESS)
        and checkin.reminded_at is None
        and identity is not None
        and _usable(identity)
    ]
    chunk = _Chunk.load(db, prompter, [(r, i) for r, i, _ in waiting], day, now)
    counts: Counter[str] = Counter()
    with db.no_autoflush:
        for resident, identity, checkin in waiting:
            assert identity is not None
            counts[chunk.send(resident, identity, "reminder")] += 1
            checkin.reminded_at = now
    return counts


def close(db: Session, day_checkins: Sequence[Checkin], now: datetime) -> int:
    """Still unanswered at close time: on the station's phone list (reason silent)."""
    return sum(checkins.to_phone_list(checkin, "silent", now) for checkin in day_checkins)
