"""Sending an approved advisory: one Delivery and one outbox row per target, progress, resend, tasks.

``start`` writes, in the caller's transaction, a Delivery (with its own share token) and an outbox row
keyed ``advisory:<id>:group:<gid>`` per target, so starting twice sends nothing twice. Robots draw from
their own rate bucket (``robot:<blind index of the key>``: 20 a minute each). A manual-forwarding target
gets a WeCom app message to its owner instead, and waits until the owner marks it done.

A target's state is derived from its outbox row (``bot.models.advisory.delivery_status``), never
stored twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy
from bot.config import Settings
from bot.models import Advisory, Delivery, OutboxMessage, StaffUser, WeChatGroup
from bot.models.advisory import delivery_status
from bot.models.enums import AdvisoryStatus, DeliveryStatus, GroupKind, OutboxStatus
from bot.services import audit, outbox
from bot.services.advisories import (
    AdvisoryError,
    NotAllowed,
    chain_complete,
    new_token,
    page_url,
    rendered_with,
    send_day,
    tasks_url,
    variables,
)
from bot.services.advisory_payloads import message_for
from bot.services.advisory_targets import Targeting, resolve
from bot.services.advisory_text import TemplateProblem
from bot.services.audit import Actor

STARTED = frozenset({AdvisoryStatus.SENDING, AdvisoryStatus.SENT})
PROGRESS_KEYS = tuple(status.value for status in DeliveryStatus)
STATUS_LABELS = {
    DeliveryStatus.QUEUED: "排队中",
    DeliveryStatus.SENT: "已发送",
    DeliveryStatus.FAILED: "失败",
    DeliveryStatus.AWAITING_FORWARD: "待人工转发",
    DeliveryStatus.FORWARDED: "已人工转发",
    DeliveryStatus.CANCELLED: "已取消",
}


def send_key(advisory_id: int, group_id: int) -> str:
    return f"advisory:{advisory_id}:group:{group_id}"


def robot_rate_key(webhook_key: str) -> str:
    return f"robot:{privacy.vault().blind_index(webhook_key, kind='robot')}"


def address(group: WeChatGroup) -> tuple[str, str | None] | None:
    """(recipient, rate key) of a target; None when there is nobody to send to (a forwarder without WeCom)."""
    kind = group.kind
    if kind == GroupKind.WECOM_ROBOT:
        return (group.webhook_key, robot_rate_key(group.webhook_key)) if group.webhook_key else None
    if kind == GroupKind.WECOM_APPCHAT:
        return group.chat_id, None
    if kind == GroupKind.WECOM_CUSTOMER_GROUP:
        return group.owner_userid, None
    if kind == GroupKind.OA_TAG:
        return (str(group.tag_id) if group.tag_id else "all"), None
    owner = group.owner_staff
    return (owner.wecom_userid, None) if owner is not None and owner.wecom_userid else None


@dataclass(frozen=True)
class Started:
    targets: int
    queued: int  # outbox rows written now (0 when it had started already)


def _lock(db: Session, advisory: Advisory) -> None:
    """Serialise concurrent starts of one advisory (the job and the CLI) on PostgreSQL."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(Advisory.id).where(Advisory.id == advisory.id).with_for_update())
        db.refresh(advisory)


def start(db: Session, settings: Settings, actor: Actor, advisory: Advisory, now: datetime) -> Started:
    """Queue the advisory to every target now. Nothing goes without the whole approval chain."""
    _lock(db, advisory)
    existing = {
        d.group_id: d for d in db.scalars(select(Delivery).where(Delivery.advisory_id == advisory.id))
    }
    if advisory.status in STARTED:
        return Started(len(existing), 0)
    if advisory.status not in (AdvisoryStatus.APPROVED, AdvisoryStatus.SCHEDULED):
        raise AdvisoryError("只有已批准的倡议书可以发送。")
    if not chain_complete(settings, advisory):
        raise NotAllowed("审批流程未完成，不能发送。")
    groups = resolve(db, Targeting.from_json(advisory.targets))
    if not groups:
        raise AdvisoryError("没有可发送的群：发送对象中的群都已停用或被排除。")
    values = variables(db, settings, send_day(settings, advisory, now))
    task_url = tasks_url(settings)
    queued = 0
    for group in groups:
        delivery = existing.get(group.id)
        if delivery is None:
            delivery = Delivery(advisory_id=advisory.id, group_id=group.id, share_token=new_token())
            db.add(delivery)
        queued += _queue(db, settings, advisory, group, delivery, values, task_url)
    advisory.status = AdvisoryStatus.SENDING
    advisory.started_at, advisory.scheduled_at = now, advisory.scheduled_at or now
    audit.record(
        db,
        actor,
        "advisory.send",
        record_type="advisory",
        record_id=advisory.id,
        targets=len(groups),
        queued=queued,
    )
    return Started(len(groups), queued)


def _queue(
    db: Session,
    settings: Settings,
    advisory: Advisory,
    group: WeChatGroup,
    delivery: Delivery,
    values: Any,
    task_url: str,
) -> int:
    if delivery.outbox_id is not None:
        return 0
    try:
        content = rendered_with(values, settings, advisory, delivery.share_token)
    except TemplateProblem as exc:
        raise AdvisoryError(str(exc)) from None
    message = message_for(group.kind, content, group_name=group.name, task_url=task_url)
    if message.problem():
        raise AdvisoryError(f"「{group.name}」：{message.problem()}")
    target = address(group)
    if target is None:
        return 0  # a forwarder without a WeCom account: the task waits in the panel
    recipient, rate_key = target
    queued = outbox.enqueue(
        db,
        key=send_key(advisory.id, group.id),
        channel=message.channel,
        recipient=recipient,
        payload=message.payload,
        rate_key=rate_key,
    )
    db.flush()
    delivery.outbox_id = queued.id
    return 1 if queued.created else 0


def due(db: Session, now: datetime) -> list[Advisory]:
    """Scheduled advisories whose time has come, oldest first."""
    return list(
        db.scalars(
            select(Advisory)
            .where(Advisory.status == AdvisoryStatus.SCHEDULED, Advisory.scheduled_at <= now)
            .order_by(Advisory.scheduled_at, Advisory.id)
        )
    )


def sending(db: Session) -> list[Advisory]:
    return list(db.scalars(select(Advisory).where(Advisory.status == AdvisoryStatus.SENDING)))


def finish_if_done(db: Session, advisory: Advisory, now: datetime) -> bool:
    """SENDING → SENT once no target's message is still queued or in flight."""
    if advisory.status != AdvisoryStatus.SENDING:
        return False
    if progress(db, advisory).counts[DeliveryStatus.QUEUED.value]:
        return False
    advisory.status, advisory.sent_at = AdvisoryStatus.SENT, now
    return True


def resend_failed(db: Session, actor: Actor, advisory: Advisory) -> int:
    """Failed targets only go back to the queue; returns how many."""
    if advisory.status not in STARTED:
        raise AdvisoryError("只有已开始发送的倡议书可以重发失败的目标。")
    failed = [row.outbox_id for row in targets(db, advisory) if row.status == DeliveryStatus.FAILED]
    count = outbox.requeue_failed(db, [i for i in failed if i is not None])
    if count:
        advisory.status, advisory.sent_at = AdvisoryStatus.SENDING, None
    audit.record(
        db, actor, "advisory.resend_failed", record_type="advisory", record_id=advisory.id, count=count
    )
    return count


# -- per-target state and progress ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    delivery_id: int
    group_id: int
    group_name: str
    kind: GroupKind
    status: DeliveryStatus
    share_token: str
    outbox_id: int | None
    attempts: int
    error: str
    sent_at: datetime | None
    forwarded_at: datetime | None


def targets(db: Session, advisory: Advisory) -> list[TargetRow]:
    """Every target of an advisory with its state, read (as columns, never stale) from its outbox row."""
    rows = db.execute(
        select(
            Delivery.id.label("delivery_id"),
            WeChatGroup.id.label("group_id"),
            WeChatGroup.name,
            WeChatGroup.kind,
            Delivery.share_token,
            Delivery.outbox_id,
            Delivery.forwarded_at,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.sent_at,
        )
        .join(WeChatGroup, Delivery.group_id == WeChatGroup.id)
        .outerjoin(OutboxMessage, Delivery.outbox_id == OutboxMessage.id)
        .where(Delivery.advisory_id == advisory.id)
        .order_by(WeChatGroup.kind, WeChatGroup.name, Delivery.id)
    ).all()
    cancelled = advisory.cancelled_at is not None
    return [
        TargetRow(
            delivery_id=r.delivery_id,
            group_id=r.group_id,
            group_name=r.name,
            kind=r.kind,
            status=delivery_status(
                r.kind, r.status, forwarded=r.forwarded_at is not None, advisory_cancelled=cancelled
            ),
            share_token=r.share_token,
            outbox_id=r.outbox_id,
            attempts=r.attempts or 0,
            error=(r.last_error or "") if r.status not in (None, OutboxStatus.SENT) else "",
            sent_at=r.sent_at,
            forwarded_at=r.forwarded_at,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Progress:
    status: AdvisoryStatus
    counts: dict[str, int]
    total: int

    @property
    def settled(self) -> int:
        """Targets whose message is no longer waiting to go (sent, failed, handed to a forwarder ...)."""
        return self.total - self.counts[DeliveryStatus.QUEUED.value]

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "total": self.total, "settled": self.settled, **self.counts}


def progress(db: Session, advisory: Advisory) -> Progress:
    counted = Counter(row.status.value for row in targets(db, advisory))
    counts = {key: counted.get(key, 0) for key in PROGRESS_KEYS}
    return Progress(advisory.status, counts, sum(counts.values()))


# -- manual-forwarding tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    delivery_id: int
    advisory_id: int
    title: str
    group_name: str
    page_url: str
    status: DeliveryStatus
    forwarded_at: datetime | None


def tasks_for(db: Session, settings: Settings, user: StaffUser) -> list[Task]:
    """The forwarding tasks of one staff member, open ones first."""
    rows = db.execute(
        select(Delivery, WeChatGroup, Advisory)
        .join(WeChatGroup, Delivery.group_id == WeChatGroup.id)
        .join(Advisory, Delivery.advisory_id == Advisory.id)
        .where(WeChatGroup.kind == GroupKind.MANUAL, WeChatGroup.owner_staff_id == user.id)
        .order_by(Delivery.forwarded_at.is_not(None), Advisory.id.desc())
    ).all()
    return [
        Task(d.id, a.id, a.title, g.name, page_url(settings, d.share_token), d.status, d.forwarded_at)
        for d, g, a in rows
    ]


def mark_forwarded(db: Session, user: StaffUser, actor: Actor, delivery_id: int, now: datetime) -> Delivery:
    """The owner forwarded the advisory into their group by hand (idempotent)."""
    delivery = db.get(Delivery, delivery_id)
    group = delivery.group if delivery is not None else None
    if delivery is None or group is None or group.kind != GroupKind.MANUAL or group.owner_staff_id != user.id:
        raise NotAllowed("这不是您的转发任务。")
    if delivery.advisory.cancelled_at is not None:
        raise AdvisoryError("这份倡议书已撤销，请不要再转发。")
    if delivery.forwarded_at is None:
        delivery.forwarded_at, delivery.forwarded_by_id = now, user.id
        audit.record(
            db,
            actor,
            "advisory.forwarded",
            record_type="delivery",
            record_id=delivery.id,
            advisory_id=delivery.advisory_id,
        )
    return delivery
