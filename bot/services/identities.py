"""WeChat identities: created on first contact, their customer-service window, subscription."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import ConversationState, WeChatIdentity, utcnow

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5


def get_or_create(db: Session, account: str, openid: str) -> WeChatIdentity:
    """The identity for this openid; concurrent first contacts create it once."""
    now = utcnow()
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(cast(Table, WeChatIdentity.__table__))  # Core: the ORM's bulk path costs twice as much
        .values(
            account=account,
            openid=openid,
            subscribed=True,
            window_sends=0,
            bind_failures=0,
            tips_blocked=False,
            nickname="",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account", "openid"])
    )
    identity = db.scalar(
        select(WeChatIdentity).where(WeChatIdentity.account == account, WeChatIdentity.openid == openid)
    )
    assert identity is not None
    return identity


def user_spoke(identity: WeChatIdentity, at: datetime) -> None:
    """A message from the user opens (or renews) the 48-hour window with a fresh count."""
    identity.last_user_message_at = at
    identity.window_sends = 0


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
    state = db.scalar(select(ConversationState).where(ConversationState.identity_id == identity.id))
    if state is not None:
        db.delete(state)
