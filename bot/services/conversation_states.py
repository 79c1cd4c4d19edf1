"""Where each identity's conversation stands (one conversation_states row): read, save, end.

Core statements built once per dialect: a turn reads its state once and writes it once (an
upsert), without the ORM's unit of work, which costs twice as much for one row. The caller
serialises turns of one identity (the identity upsert locks its row; SQLite's write lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Executable, Table, bindparam, delete, select
from sqlalchemy.orm import Session

from bot import bulk
from bot.db import upsert_insert
from bot.flows.model import State
from bot.models import ConversationState, utcnow

_TABLE = cast(Table, ConversationState.__table__)
_COLUMNS = ("flow", "version", "node", "data", "expires_at", "updated_at")
_LOAD = select(*(_TABLE.c[name] for name in _COLUMNS[:-1])).where(
    _TABLE.c.identity_id == bindparam("identity_id")
)
_END = delete(_TABLE).where(_TABLE.c.identity_id == bindparam("identity_id"))


def load(db: Session, identity_id: int) -> State | None:
    row = db.execute(_LOAD, {"identity_id": identity_id}).one_or_none()
    if row is None:
        return None
    return State(row.flow, row.version, row.node, dict(row.data), row.expires_at)


def _row(identity_id: int, state: State, now: datetime) -> dict[str, object]:
    return {
        "identity_id": identity_id,
        "flow": state.flow,
        "version": state.version,
        "node": state.node,
        "data": dict(state.data),
        "expires_at": state.expires_at,
        "updated_at": now,
    }


def save(db: Session, identity_id: int, state: State, now: datetime | None = None) -> None:
    db.execute(_save_statement(db.get_bind().dialect.name), _row(identity_id, state, now or utcnow()))


def save_many(db: Session, states: Mapping[int, State]) -> None:
    """``save`` for many identities at once (``bot.bulk``): the daily prompt opens thousands."""
    now = utcnow()
    rows = [_row(identity_id, state, now) for identity_id, state in states.items()]
    bulk.insert_many(db, _TABLE, rows, key=["identity_id"], update=_COLUMNS)


def end(db: Session, identity_id: int) -> None:
    db.execute(_END, {"identity_id": identity_id})


@cache
def _save_statement(dialect: str) -> Executable:
    insert = upsert_insert(dialect)(_TABLE)
    return insert.on_conflict_do_update(
        index_elements=[_TABLE.c.identity_id], set_={name: insert.excluded[name] for name in _COLUMNS}
    )
