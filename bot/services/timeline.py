"""One resident's history as a single timeline: check-ins, visits, messages, leads and changes.

Each source is read with its own indexed query (newest first, capped), then merged by time.
Message text and reasons are shown with any ID or phone number in them masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_datetime
from bot.models import (
    AuditEvent,
    Checkin,
    CheckinStatus,
    ContactMethod,
    InboundMessage,
    Lead,
    LeadPriority,
    OutboxMessage,
    Resident,
    Visit,
    VisitOutcome,
    WeChatIdentity,
)
from bot.services.labels import label
from bot.services.redaction import mask_identifiers
from bot.services.resident_changes import EDITABLE
from bot.services.stats import ANSWERED

PER_SOURCE = 120
SELF_REPORTED = (ContactMethod.WECHAT, ContactMethod.H5)  # newest rows read from each source
TEXT_LIMIT = 200
_CHANGE_TITLES = {
    "resident.edit": "修改人员信息",
    "resident.transfer": "转移派出所",
    "resident.import": "导入更新",
    "resident.monitoring_start": "返乡，开始居家观察",
    "resident.monitoring_closed": "观察期满解除",
    "pii.reveal": "查看完整号码",
}
_OTHER_FIELDS = {
    "station": "派出所",
    "station_id": "派出所",
    "township_id": "乡镇街道",
    "start": "开始",
    "end": "结束",
}
_SHOWN_ELSEWHERE = {"changes", "field", "reason", "row", "source"}
_EVENT_TITLES = {"subscribe": "关注公众号", "unsubscribe": "取消关注", "SCAN": "扫码", "CLICK": "点击菜单"}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # checkin | visit | inbound | outbound | lead | change
    title: str
    detail: str = ""
    tone: str = ""  # "" | ok | warn | bad
    actor: str = ""
    lead_id: int | None = None


def _short(text: str) -> str:
    text = mask_identifiers(" ".join(text.split()))
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def _checkin_rows(db: Session, resident: Resident) -> list[Checkin]:
    newest = Checkin.day.desc()
    return list(
        db.scalars(
            select(Checkin).where(Checkin.resident_id == resident.id).order_by(newest).limit(PER_SOURCE)
        )
    )


def _checkins(rows: list[Checkin], tz: ZoneInfo) -> Iterator[Event]:
    for c in rows:
        at = c.answered_at or c.phone_listed_at or c.prompted_at or local_datetime(c.day, time(0), tz)
        details = [label("health", c.health)]
        if c.temperature is not None:
            details.append(f"{c.temperature}℃")
        if c.whereabouts_city:
            details.append(f"在{c.whereabouts_city}")
        if c.return_date:
            details.append(f"计划 {c.return_date.isoformat()} 返回")
        if c.phone_list_reason:
            details.append(f"回访原因：{label('phone_reason', c.phone_list_reason)}")
        tone = "bad" if c.abnormal else "ok" if c.status in ANSWERED else "warn"
        if c.status in (CheckinStatus.PENDING, CheckinStatus.PROMPTED, CheckinStatus.IN_PROGRESS):
            tone = ""
        title = f"{c.day.isoformat()} 签到：{label('checkin_status', c.status)}"
        yield Event(at, "checkin", title, "，".join(d for d in details if d), tone)


def _visits(db: Session, resident: Resident, answered_days: set[date]) -> Iterator[Event]:
    rows = db.scalars(
        select(Visit).where(Visit.resident_id == resident.id).order_by(Visit.at.desc()).limit(PER_SOURCE)
    )
    for v in rows:
        if v.method in SELF_REPORTED and v.day in answered_days:
            continue  # the answered check-in of that day already tells this contact
        title = f"{label('contact_method', v.method)}联系：{label('visit_outcome', v.outcome)}"
        details = [label("health", v.health), v.whereabouts, v.note]
        tone = "ok" if v.outcome == VisitOutcome.REACHED else "warn"
        yield Event(v.at, "visit", title, _short("，".join(d for d in details if d)), tone)


def _message_text(payload: Mapping[str, Any]) -> str:
    kind = payload.get("msgtype")
    part = payload.get(kind) if isinstance(kind, str) else None
    if isinstance(part, Mapping):
        return str(part.get("content") or part.get("title") or part.get("description") or kind)
    data = payload.get("data")
    if isinstance(data, Mapping):  # a template message: its fields' values, in order
        values = (v.get("value", "") if isinstance(v, Mapping) else v for v in data.values())
        return " ".join(str(v) for v in values)
    return ""


def _messages(db: Session, resident: Resident) -> Iterator[Event]:
    identity = db.scalar(select(WeChatIdentity).where(WeChatIdentity.resident_id == resident.id))
    if identity is None:
        return
    inbound = db.scalars(
        select(InboundMessage)
        .where(InboundMessage.sender == identity.openid, InboundMessage.account == identity.account)
        .order_by(InboundMessage.received_at.desc())
        .limit(PER_SOURCE)
    )
    for m in inbound:
        if m.msg_type == "event":
            yield Event(m.received_at, "inbound", _EVENT_TITLES.get(m.event, f"事件：{m.event}"))
        else:
            yield Event(m.received_at, "inbound", "居民发来消息", _short(m.content or f"[{m.msg_type}]"))
    outbound = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == identity.openid)
        .order_by(OutboxMessage.created_at.desc())
        .limit(PER_SOURCE)
    )
    for o in outbound:
        title = f"发给居民的消息（{label('outbox_status', o.status)}）"
        tone = "bad" if o.status == "failed" else ""
        yield Event(o.sent_at or o.created_at, "outbound", title, _short(_message_text(o.payload)), tone)


def _leads(db: Session, resident: Resident) -> Iterator[Event]:
    rows = db.scalars(
        select(Lead).where(Lead.resident_id == resident.id).order_by(Lead.created_at.desc()).limit(PER_SOURCE)
    )
    for lead in rows:
        tone = "bad" if lead.priority == LeadPriority.HIGH else "warn"
        detail = f"{label('lead_source', lead.source)}，{label('lead_status', lead.status)}"
        yield Event(lead.created_at, "lead", f"产生线索：{lead.title}", detail, tone, lead_id=lead.id)
        if lead.closed_at is not None:
            done = f"线索办结：{lead.outcome}"
            yield Event(lead.closed_at, "lead", done, _short(lead.outcome_note), "ok", lead_id=lead.id)


def _field_title(name: str) -> str:
    return EDITABLE[name].title if name in EDITABLE else _OTHER_FIELDS.get(name, name)


def _change_detail(detail: Mapping[str, Any]) -> str:
    parts = []
    changes = detail.get("changes")
    if isinstance(changes, Mapping):
        for name, pair in changes.items():
            old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else ("", pair)
            parts.append(f"{_field_title(name)}：{old or '（空）'} → {new or '（空）'}")
    if detail.get("field"):
        parts.append(_field_title(str(detail["field"])))
    if detail.get("reason"):
        parts.append(f"理由：{detail['reason']}")
    parts += [f"{_field_title(k)}：{v}" for k, v in detail.items() if k not in _SHOWN_ELSEWHERE and v != ""]
    return _short("；".join(parts))


def _changes(db: Session, resident: Resident) -> Iterator[Event]:
    rows = db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.record_type == "resident",
            AuditEvent.record_id == str(resident.id),
            AuditEvent.action.not_like("%.view"),  # page views are in the audit log, not the story
        )
        .order_by(AuditEvent.id.desc())
        .limit(PER_SOURCE)
    )
    for e in rows:
        title = _CHANGE_TITLES.get(e.action, e.action)
        yield Event(e.at, "change", title, _change_detail(e.detail or {}), actor=e.actor_label)


def merged(sources: Iterable[Iterable[Event]], limit: int) -> list[Event]:
    return sorted((e for source in sources for e in source), key=lambda e: e.at, reverse=True)[:limit]


def for_resident(db: Session, resident: Resident, tz: ZoneInfo, limit: int = 300) -> list[Event]:
    """The resident's timeline, newest first."""
    checkins = _checkin_rows(db, resident)
    answered_days = {c.day for c in checkins if c.status == CheckinStatus.ANSWERED}
    return merged(
        (
            _checkins(checkins, tz),
            _visits(db, resident, answered_days),
            _messages(db, resident),
            _leads(db, resident),
            _changes(db, resident),
        ),
        limit,
    )
