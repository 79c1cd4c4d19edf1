"""Reach of advisories: opens and shares of the public page, acknowledgements, and the figures built on them.

Counting rules (the figures the bureau reports, so they must not inflate):

- The public page ``/a/<token>`` answers to the advisory's own token and to each target's share token,
  so opens and shares are attributed to the group the link was sent or forwarded into.
- Crawlers and link checkers (by user agent) are not counted. A client is a keyed hash of its address and
  user agent for one local day: the same person opening or sharing the same group's link again that day
  counts once. The raw address is never stored.
- "收到"-style replies count as an acknowledgement once per person and target: a WeCom message from an app
  chat is matched to the latest advisory sent to that chat; any other WeCom message to the latest advisory
  sent to a customer group or forwarding task of that sender; a message to the Official Account to the
  latest advisory mass-sent to followers. Only advisories delivered in the last ``ACK_WINDOW`` qualify.
- Forwarded = shares from the page + manual-forwarding tasks marked done. Delivered = messages WeChat
  accepted + manual forwards done.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import privacy
from bot.clock import local_today
from bot.config import Settings
from bot.models import Advisory, Delivery, OutboxMessage, ReachEvent, StaffUser, WeChatGroup
from bot.models.enums import AdvisoryStatus, DeliveryStatus, GroupKind, OutboxStatus, ReachKind
from bot.services.advisory_sending import targets

ACK_WINDOW = timedelta(hours=72)
PUBLISHED = frozenset({AdvisoryStatus.SENDING, AdvisoryStatus.SENT})
_BOT_AGENT = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python|java/|okhttp|go-http|httpclient|headless|phantom|preview"
    r"|facebookexternalhit|scrapy|node-fetch|axios|libwww|monitor|uptime|scanner|fetch",
    re.IGNORECASE,
)
_PUNCT = r"[\s!！。.~～,，、]*"
_ACK_EMOJI = r"(?:👌|👍|🙏|\[OK\]|\[强\]|\[抱拳\])"
_RECEIVED = rf"(?:已?收到(?:了|啦|啊)?{_PUNCT}(?:谢谢|感谢)?|已阅)"
# For the Official Account, where a command runs before the resident's conversation: only words that are
# no answer to any question the bot asks ("好", "ok" and 👍 mean "yes" in a check-in).
RECEIVED_PATTERN = rf"{_PUNCT}{_RECEIVED}{_PUNCT}"
# In WeCom chats, the whole message: "收到", "已收到", "收到！", "好的，收到", "收到谢谢", "OK", "👌", "[强]".
ACK_PATTERN = (
    rf"{_PUNCT}(?:(?:好的?|好滴|嗯)?{_PUNCT}{_RECEIVED}|(?i:ok)|{_ACK_EMOJI}+)(?:{_PUNCT}|{_ACK_EMOJI})*"
)
_ACK = re.compile(ACK_PATTERN)


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(_BOT_AGENT.search(user_agent))


def is_ack(text: str) -> bool:
    return bool(text) and _ACK.fullmatch(text.strip()) is not None


# -- the public page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPage:
    advisory: Advisory
    delivery: Delivery | None  # None: the advisory's own token (no group known)

    @property
    def published(self) -> bool:
        return self.advisory.status in PUBLISHED

    @property
    def withdrawn(self) -> bool:
        return self.advisory.status == AdvisoryStatus.CANCELLED and self.advisory.started_at is not None


def find_page(db: Session, token: str) -> PublicPage | None:
    if not token or len(token) > 64:
        return None
    delivery = db.scalar(select(Delivery).where(Delivery.share_token == token))
    if delivery is not None:
        return PublicPage(delivery.advisory, delivery)
    advisory = db.scalar(select(Advisory).where(Advisory.public_token == token))
    return PublicPage(advisory, None) if advisory is not None else None


def client_hash(ip: str, user_agent: str, day: date) -> str:
    """A keyed hash of one client for one day: repeated visits match, the address cannot be recovered."""
    return privacy.vault().blind_index(f"{ip}|{user_agent}|{day.isoformat()}", kind="reach-client")


def _insert(
    db: Session,
    *,
    advisory_id: int,
    delivery_id: int | None,
    kind: ReachKind,
    client: str,
    dedupe_key: str,
    now: datetime,
) -> bool:
    """Add the event unless one with the same key exists; True when it counted."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ReachEvent)
        .values(
            advisory_id=advisory_id,
            delivery_id=delivery_id,
            kind=kind,
            client_hash=client,
            dedupe_key=dedupe_key,
            at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(ReachEvent.id)
    )
    return db.execute(stmt).scalar() is not None


def record_visit(
    db: Session,
    settings: Settings,
    page: PublicPage,
    kind: ReachKind,
    *,
    ip: str,
    user_agent: str,
    now: datetime,
) -> bool:
    """Count an open or a share of a published page; False when it did not count (bot, repeat)."""
    if kind == ReachKind.ACK or not page.published or is_bot(user_agent):
        return False
    client = client_hash(ip, user_agent[:300], local_today(settings.tz, now))
    delivery_id = page.delivery.id if page.delivery else None
    key = f"{kind.value}:{page.advisory.id}:{delivery_id or 0}:{client}"
    return _insert(
        db,
        advisory_id=page.advisory.id,
        delivery_id=delivery_id,
        kind=kind,
        client=client,
        dedupe_key=key,
        now=now,
    )


# -- acknowledgements ------------------------------------------------------------------------------------


def _recently_delivered(now: datetime) -> Any:
    return (
        select(Delivery)
        .join(WeChatGroup, Delivery.group_id == WeChatGroup.id)
        .join(OutboxMessage, Delivery.outbox_id == OutboxMessage.id)
        .join(Advisory, Delivery.advisory_id == Advisory.id)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= now - ACK_WINDOW,
            Advisory.status != AdvisoryStatus.CANCELLED,
        )
        .order_by(OutboxMessage.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    )


def ack_target_official_account(db: Session, now: datetime) -> Delivery | None:
    """The advisory most recently mass-sent to followers (a tag's or all)."""
    query = _recently_delivered(now).where(WeChatGroup.kind == GroupKind.OA_TAG)
    delivery: Delivery | None = db.scalar(query)
    return delivery


def ack_target_wecom(db: Session, sender: str, chat_id: str, now: datetime) -> Delivery | None:
    """From an app chat: that chat's latest advisory; else the sender's customer group or forwarding task."""
    query = _recently_delivered(now)
    if chat_id:
        query = query.where(WeChatGroup.kind == GroupKind.WECOM_APPCHAT, WeChatGroup.chat_id == chat_id)
    else:
        forwarders = select(StaffUser.id).where(StaffUser.wecom_userid == sender)
        query = query.where(
            or_(
                (WeChatGroup.kind == GroupKind.WECOM_CUSTOMER_GROUP) & (WeChatGroup.owner_userid == sender),
                (WeChatGroup.kind == GroupKind.MANUAL) & WeChatGroup.owner_staff_id.in_(forwarders),
            )
        )
    delivery: Delivery | None = db.scalar(query)
    return delivery


def record_ack(db: Session, delivery: Delivery, sender: str, now: datetime) -> bool:
    """One acknowledgement per person and target; True when it counted."""
    who = privacy.vault().blind_index(sender, kind="reach-sender")
    return _insert(
        db,
        advisory_id=delivery.advisory_id,
        delivery_id=delivery.id,
        kind=ReachKind.ACK,
        client=who,
        dedupe_key=f"ack:{delivery.id}:{who}",
        now=now,
    )


# -- figures -----------------------------------------------------------------------------------------------


@dataclass
class Reach:
    delivered: int = 0
    forwarded: int = 0
    opened: int = 0
    acknowledged: int = 0

    def add(self, other: Reach) -> None:
        self.delivered += other.delivered
        self.forwarded += other.forwarded
        self.opened += other.opened
        self.acknowledged += other.acknowledged


@dataclass(frozen=True)
class ReachRow:
    label: str
    kind: GroupKind | None
    status: DeliveryStatus | None
    reach: Reach


@dataclass(frozen=True)
class ReachTable:
    rows: list[ReachRow]
    totals: Reach = field(default_factory=Reach)


def _event_counts(db: Session, advisory_ids: Iterable[int]) -> dict[tuple[int, int | None, ReachKind], int]:
    rows = db.execute(
        select(ReachEvent.advisory_id, ReachEvent.delivery_id, ReachEvent.kind, func.count(ReachEvent.id))
        .where(ReachEvent.advisory_id.in_(list(advisory_ids)))
        .group_by(ReachEvent.advisory_id, ReachEvent.delivery_id, ReachEvent.kind)
    ).all()
    return {(a, d, k): n for a, d, k, n in rows}


def _reach(
    counts: dict[tuple[int, int | None, ReachKind], int],
    advisory_id: int,
    delivery_id: int | None,
    *,
    delivered: bool,
    forwarded_by_hand: bool,
) -> Reach:
    def n(kind: ReachKind) -> int:
        return counts.get((advisory_id, delivery_id, kind), 0)

    return Reach(
        delivered=int(delivered),
        forwarded=n(ReachKind.SHARE) + int(forwarded_by_hand),
        opened=n(ReachKind.OPEN),
        acknowledged=n(ReachKind.ACK),
    )


def reach_table(db: Session, advisory: Advisory) -> ReachTable:
    """Per target: delivered, forwarded, opened, acknowledged; plus the page opened by its own link."""
    counts = _event_counts(db, [advisory.id])
    table = ReachTable([])
    for row in targets(db, advisory):
        delivered = row.status in (DeliveryStatus.SENT, DeliveryStatus.FORWARDED)
        reach = _reach(
            counts,
            advisory.id,
            row.delivery_id,
            delivered=delivered,
            forwarded_by_hand=row.forwarded_at is not None,
        )
        table.rows.append(ReachRow(row.group_name, row.kind, row.status, reach))
        table.totals.add(reach)
    direct = _reach(counts, advisory.id, None, delivered=False, forwarded_by_hand=False)
    if direct.opened or direct.forwarded:
        table.rows.append(ReachRow("（直接打开的链接）", None, None, direct))
        table.totals.add(direct)
    return table


def totals_by_advisory(db: Session, advisories: Iterable[Advisory]) -> dict[int, Reach]:
    """The reach of several advisories at once (for the list)."""
    ids = [a.id for a in advisories]
    result = {i: Reach() for i in ids}
    if not ids:
        return result
    for (advisory_id, _, kind), n in _event_counts(db, ids).items():
        reach = result[advisory_id]
        if kind == ReachKind.OPEN:
            reach.opened += n
        elif kind == ReachKind.SHARE:
            reach.forwarded += n
        else:
            reach.acknowledged += n
    rows = db.execute(
        select(Delivery.advisory_id, Delivery.forwarded_at, OutboxMessage.status, WeChatGroup.kind)
        .join(WeChatGroup, Delivery.group_id == WeChatGroup.id)
        .outerjoin(OutboxMessage, Delivery.outbox_id == OutboxMessage.id)
        .where(Delivery.advisory_id.in_(ids))
    ).all()
    for advisory_id, forwarded_at, status, group_kind in rows:
        by_hand = forwarded_at is not None
        pushed = group_kind != GroupKind.MANUAL and status == OutboxStatus.SENT
        result[advisory_id].forwarded += int(by_hand)
        result[advisory_id].delivered += int(by_hand or pushed)
    return result


def total_forwards(db: Session) -> int:
    """Forwards across all advisories: page shares plus manual forwards done (the figure reported upward)."""
    shares = db.scalar(select(func.count(ReachEvent.id)).where(ReachEvent.kind == ReachKind.SHARE)) or 0
    by_hand = db.scalar(select(func.count(Delivery.id)).where(Delivery.forwarded_at.is_not(None))) or 0
    return int(shares) + int(by_hand)


# -- the chart over time ------------------------------------------------------------------------------------

MAX_HOURLY_SPAN = timedelta(days=3)
SERIES = ("delivered", "forwarded", "opened", "acknowledged")


def timeline(db: Session, settings: Settings, advisory: Advisory) -> dict[str, Any]:
    """Counts per hour (per day when the advisory is older than three days), local time, for ECharts."""
    moments: list[tuple[str, datetime]] = []
    kinds = {ReachKind.OPEN: "opened", ReachKind.SHARE: "forwarded", ReachKind.ACK: "acknowledged"}
    events = db.execute(select(ReachEvent.kind, ReachEvent.at).where(ReachEvent.advisory_id == advisory.id))
    moments.extend((kinds[kind], at) for kind, at in events)
    for row in targets(db, advisory):
        if row.forwarded_at is not None:
            moments.extend([("forwarded", row.forwarded_at), ("delivered", row.forwarded_at)])
        elif row.sent_at is not None and row.kind != GroupKind.MANUAL:
            moments.append(("delivered", row.sent_at))
    if not moments:
        return {"bucket": "hour", "labels": [], "series": {name: [] for name in SERIES}}
    tz = settings.tz
    first = min(at for _, at in moments).astimezone(tz)
    last = max(at for _, at in moments).astimezone(tz)
    hourly = last - first <= MAX_HOURLY_SPAN
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    start = first.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        start = start.replace(hour=0)
    buckets: dict[str, Counter[str]] = defaultdict(Counter)
    label_format = "%m-%d %H:00" if hourly else "%m-%d"
    for name, at in moments:
        buckets[at.astimezone(tz).strftime(label_format)][name] += 1
    labels: list[str] = []
    cursor = start
    while cursor <= last:
        labels.append(cursor.strftime(label_format))
        cursor = (cursor + step).astimezone(tz)
    return {
        "bucket": "hour" if hourly else "day",
        "labels": labels,
        "series": {name: [buckets[label][name] for label in labels] for name in SERIES},
    }
