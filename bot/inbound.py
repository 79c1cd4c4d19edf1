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
from functools import cache
from typing import cast

from sqlalchemy import Executable, Table, bindparam, select, update
from sqlalchemy.orm import Session

from bot.db import begin_immediate, upsert_insert
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
            _mark(db, stored.id, status=InboundStatus.PROCESSED, reply=passive, processed_at=now)
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
class _Statements:
    """Built once per dialect and executed with parameters: building costs more than a cached run."""

    store: Executable
    find: Executable
    mark: Executable  # sets the columns named in its parameters, on the row ``row_id``


@cache
def _statements(dialect: str) -> _Statements:
    find = select(_TABLE.c.id, _TABLE.c.status, _TABLE.c.reply).where(
        _TABLE.c.account == bindparam("account"), _TABLE.c.dedupe_key == bindparam("dedupe_key")
    )
    if dialect == "postgresql":
        find = find.with_for_update()  # a concurrent retry waits here until the first one commits
    return _Statements(
        store=upsert_insert(dialect)(_TABLE)
        .on_conflict_do_nothing(index_elements=["account", "dedupe_key"])
        .returning(_TABLE.c.id),
        find=find,
        mark=update(_TABLE).where(_TABLE.c.id == bindparam("row_id")),
    )


@dataclass(frozen=True)
class _Stored:
    id: int
    status: InboundStatus
    reply: str | None


def _store(db: Session, account: str, msg: InboundMessage, now: datetime) -> _Stored:
    """Store the message, or find it (locked) if a delivery of it came first.

    A fresh insert needs no read-back: its row holds what we just wrote, and it stays locked
    (uncommitted) until this transaction ends. Only a retry reads the stored status and reply."""
    statements = _statements(db.get_bind().dialect.name)
    key = {"account": account, "dedupe_key": msg.dedupe_key[:200]}
    row = {
        **key,
        "sender": msg.sender,
        "msg_type": msg.msg_type,
        "event": msg.event or "",
        "content": (msg.content or msg.recognition or msg.url or msg.event_key or "")[:4000],
        "received_at": now,
        "status": InboundStatus.RECEIVED,
    }
    new_id = db.execute(statements.store, row).scalar()
    if new_id is not None:
        return _Stored(new_id, InboundStatus.RECEIVED, None)
    found = db.execute(statements.find, key).one()
    return _Stored(found.id, found.status, found.reply)


def _mark(db: Session, row_id: int, **values: object) -> None:
    db.execute(_statements(db.get_bind().dialect.name).mark, {"row_id": row_id, **values})


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
                _mark(db, stored.id, status=InboundStatus.FAILED)
    except Exception:
        log.warning("could not store failed inbound %s: database unavailable", msg.dedupe_key)
