"""inbound.dispatch: store → dedupe → act → reply, in one transaction.

Every message is stored (unique per account + MsgId, or sender + CreateTime for events)
in the same transaction that acts on it and records the reply. A retry of a handled
message finds the row and gets the same reply back; a retry racing the first delivery
waits on the unique key (PostgreSQL) or the write lock (SQLite), then finds it handled.
If acting fails, the transaction rolls back and the message is stored as failed, so a
retry from WeChat acts on it again and nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import begin_immediate
from bot.models import InboundMessage as InboundRow
from bot.models import InboundStatus, WeChatIdentity, utcnow
from bot.runtime import Runtime
from bot.services import identities, outbox
from bot.wechat.messages import InboundMessage

log = logging.getLogger(__name__)
# Message types and events that come from the user's own action and so open the 48 h window.
USER_ACTIONS = frozenset({"text", "voice", "image", "video", "shortvideo", "location", "link"})
USER_EVENTS = frozenset({"subscribe", "scan", "click", "view"})
# Core statements on the table: the ORM's bulk and unit-of-work paths cost twice as much here.
_TABLE = cast(Table, InboundRow.__table__)


@dataclass(frozen=True)
class Replies:
    """What the bot says back: the first text goes as the passive reply, the rest via the outbox."""

    texts: Sequence[str] = field(default_factory=tuple)


Handler = Callable[[Session, InboundMessage, WeChatIdentity, datetime], Replies]


def dispatch(rt: Runtime, account: str, msg: InboundMessage, handler: Handler) -> str:
    """Handle one verified inbound message; returns the passive reply text ('' for none)."""
    now = utcnow()
    try:
        with rt.session() as db:
            begin_immediate(db)
            stored = _store(db, account, msg, now)
            if stored.status == InboundStatus.PROCESSED:
                return stored.reply or ""
            identity = identities.get_or_create(db, account, msg.sender, spoke_at=_spoke_at(msg))
            replies = handler(db, msg, identity, now)
            passive = replies.texts[0] if replies.texts else ""
            _enqueue_followups(db, stored.id, identity, replies.texts[1:])
            db.execute(
                update(_TABLE)
                .where(_TABLE.c.id == stored.id)
                .values(status=InboundStatus.PROCESSED, reply=passive, processed_at=now)
            )
    except Exception:
        log.exception("inbound %s from account %s failed; stored for retry", msg.dedupe_key, account)
        _store_failed(rt, account, msg, now)
        raise
    if len(replies.texts) > 1:
        rt.notify_outbox()
    return passive


def _spoke_at(msg: InboundMessage) -> datetime | None:
    """When the user acted, for messages and events that open the 48 h window; None for others."""
    if msg.msg_type in USER_ACTIONS or (msg.event or "") in USER_EVENTS:
        return datetime.fromtimestamp(msg.create_time, UTC)
    return None


@dataclass(frozen=True)
class _Stored:
    id: int
    status: InboundStatus
    reply: str | None


def _store(db: Session, account: str, msg: InboundMessage, now: datetime) -> _Stored:
    """Store the message, or find it (locked) if a delivery of it came first.

    A fresh insert needs no read-back: its row holds what we just wrote, and it stays locked
    (uncommitted) until this transaction ends. Only a retry reads the stored status and reply."""
    dedupe_key = msg.dedupe_key[:200]
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = db.execute(
        insert(_TABLE)
        .values(
            account=account,
            dedupe_key=dedupe_key,
            sender=msg.sender,
            msg_type=msg.msg_type,
            event=msg.event or "",
            content=(msg.content or msg.recognition or msg.url or msg.event_key or "")[:4000],
            received_at=now,
            status=InboundStatus.RECEIVED,
        )
        .on_conflict_do_nothing(index_elements=["account", "dedupe_key"])
        .returning(_TABLE.c.id)
    ).scalar()
    if new_id is not None:
        return _Stored(new_id, InboundStatus.RECEIVED, None)
    query = select(_TABLE.c.id, _TABLE.c.status, _TABLE.c.reply).where(
        _TABLE.c.account == account, _TABLE.c.dedupe_key == dedupe_key
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # a concurrent retry waits here until the first one commits
    found = db.execute(query).one()
    return _Stored(found.id, found.status, found.reply)


def _enqueue_followups(db: Session, inbound_id: int, identity: WeChatIdentity, texts: Sequence[str]) -> None:
    """Replies beyond the passive one are customer-service messages: they count against the window."""
    for n, text in enumerate(texts, start=1):
        outbox.enqueue(
            db,
            key=f"reply:{inbound_id}:{n}",
            channel="oa_custom",
            recipient=identity.openid,
            payload={"msgtype": "text", "text": {"content": text}},
        )
        identities.note_window_send(identity)


def _store_failed(rt: Runtime, account: str, msg: InboundMessage, now: datetime) -> None:
    """Keep the message even though acting on it failed (best effort: the database may be down)."""
    try:
        with rt.session() as db:
            stored = _store(db, account, msg, now)
            if stored.status != InboundStatus.PROCESSED:
                db.execute(update(_TABLE).where(_TABLE.c.id == stored.id).values(status=InboundStatus.FAILED))
    except Exception:
        log.warning("could not store failed inbound %s: database unavailable", msg.dedupe_key)
