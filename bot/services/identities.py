"""WeChat identities: created on first contact, their customer-service window, subscription."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol, cast

from sqlalchemy import Executable, Table, bindparam, select, update
from sqlalchemy.orm import Session

from bot.db import upsert_insert
from bot.models import WeChatIdentity, utcnow
from bot.services import conversation_states

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5


def get_or_create(
    db: Session, account: str, openid: str, *, spoke_at: datetime | None = None
) -> WeChatIdentity:
    """The identity for this openid; concurrent first contacts create it once.

    ``spoke_at``: the user just wrote (or clicked), which opens (or renews) the 48 h window with
    a fresh count. One upsert finds or creates the identity, opens the window and returns the
    row, where a plain insert would need a read-back and an update."""
    now = utcnow()
    statements = _statements(db.get_bind().dialect.name)
    row = {
        "account": account,
        "openid": openid,
        "subscribed": True,
        "last_user_message_at": spoke_at,
        "window_sends": 0,
        "bind_failures": 0,
        "tips_blocked": False,
        "nickname": "",
        "created_at": now,
        "updated_at": now,
    }
    if spoke_at is None:  # an event that does not open the window: find the row, change nothing
        db.execute(statements.create, row)
        found = db.scalars(statements.find, {"account": account, "openid": openid})
    else:  # populate_existing: an identity this session already holds gets the window just written
        found = db.scalars(statements.upsert, row, execution_options={"populate_existing": True})
    identity: WeChatIdentity = found.one()
    return identity


@dataclass(frozen=True)
class _Statements:
    """Built once per dialect and executed with parameters: building costs more than a cached run."""

    create: Executable
    find: Executable
    upsert: Executable  # create, or renew the window of, the identity; returns it


@cache
def _statements(dialect: str) -> _Statements:
    table = cast(Table, WeChatIdentity.__table__)
    insert = upsert_insert(dialect)(table)
    keys = [table.c.account, table.c.openid]
    window = {name: insert.excluded[name] for name in ("last_user_message_at", "window_sends", "updated_at")}
    upsert = insert.on_conflict_do_update(index_elements=keys, set_=window).returning(*table.c)
    return _Statements(
        create=insert.on_conflict_do_nothing(index_elements=keys),
        find=select(WeChatIdentity).where(
            WeChatIdentity.account == bindparam("account"), WeChatIdentity.openid == bindparam("openid")
        ),
        upsert=select(WeChatIdentity).from_statement(upsert),
    )


class WindowFacts(Protocol):
    """What the customer-service window depends on (an identity, or a plain row of its columns)."""

    @property
    def subscribed(self) -> bool: ...
    @property
    def last_user_message_at(self) -> datetime | None: ...
    @property
    def window_sends(self) -> int: ...


def window_open(identity: WindowFacts, now: datetime | None = None) -> bool:
    now = now or utcnow()
    last = identity.last_user_message_at
    return bool(
        identity.subscribed and last and now - last < WINDOW and identity.window_sends < WINDOW_MESSAGES
    )


def note_window_send(identity: WeChatIdentity) -> None:
    identity.window_sends += 1


def note_window_sends(db: Session, identity_ids: Sequence[int]) -> None:
    """``note_window_send`` for many identities in one statement."""
    if identity_ids:
        db.execute(
            update(WeChatIdentity)
            .where(WeChatIdentity.id.in_(identity_ids))
            .values(window_sends=WeChatIdentity.window_sends + 1)
            .execution_options(synchronize_session=False)
        )


def subscribed(identity: WeChatIdentity, at: datetime) -> None:
    identity.subscribed = True
    identity.subscribed_at = at
    identity.unsubscribed_at = None


def unsubscribed(db: Session, identity: WeChatIdentity, at: datetime) -> None:
    """Unfollowing ends any conversation; the binding stays so a re-follow resumes check-ins."""
    identity.subscribed = False
    identity.unsubscribed_at = at
    conversation_states.end(db, identity.id)
