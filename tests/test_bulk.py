"""bot.bulk.insert_many on both databases: conflicts, updates, bind processing, transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from bot import bulk
from bot.models import ConversationState, OutboxMessage, OutboxStatus
from bot.runtime import Runtime
from tests.factories import make_identity

OUTBOX = cast(Table, OutboxMessage.__table__)
STATES = cast(Table, ConversationState.__table__)
WHEN = datetime(2020, 2, 15, 1, 0, tzinfo=UTC)


def message(key: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "channel": "oa_template",
        "rate_key": "oa_template",
        "recipient": f"openid-{key}",
        "payload": payload,
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": WHEN,
        "created_at": WHEN,
        "claimed_by": "",
        "wechat_msgid": "",
        "last_error": "",
        **kw,
    }


def stored(db: Session) -> dict[str, OutboxMessage]:
    db.expire_all()
    return {row.idempotency_key: row for row in db.scalars(select(OutboxMessage))}


def test_rows_are_inserted_with_their_columns_bound_as_the_orm_would(db: Session) -> None:
    shared = {"data": {"first": {"value": "张*丰，您好！"}}}  # one payload object for many rows
    local = WHEN.astimezone(timezone(timedelta(hours=8)))  # the same instant, written +08:00
    rows = [message(f"k{i}", shared) for i in range(3)] + [message("k3", {"n": 3}, next_attempt_at=local)]
    bulk.insert_many(db, OUTBOX, rows, key=["idempotency_key"])
    found = stored(db)
    assert sorted(found) == ["k0", "k1", "k2", "k3"]
    assert found["k1"].payload == shared and found["k3"].payload == {"n": 3}
    assert found["k0"].status == OutboxStatus.QUEUED
    assert found["k3"].next_attempt_at == WHEN  # stored in UTC, read back aware


def test_a_row_whose_key_exists_is_skipped(db: Session) -> None:
    bulk.insert_many(db, OUTBOX, [message("same", {"v": "first"})], key=["idempotency_key"])
    bulk.insert_many(
        db, OUTBOX, [message("same", {"v": "second"}), message("new", {"v": "new"})], key=["idempotency_key"]
    )
    found = stored(db)
    assert found["same"].payload == {"v": "first"} and found["new"].payload == {"v": "new"}


def test_with_update_an_existing_row_takes_the_new_values(db: Session) -> None:
    identity = make_identity(db)
    other = make_identity(db)

    def state(identity_id: int, node: str) -> dict[str, Any]:
        return {
            "identity_id": identity_id,
            "flow": "daily_checkin",
            "version": 1,
            "node": node,
            "data": {"answers": {"health": node}},
            "expires_at": WHEN,
            "updated_at": WHEN,
        }

    fields = ["flow", "version", "node", "data", "expires_at", "updated_at"]
    bulk.insert_many(db, STATES, [state(identity.id, "health")], key=["identity_id"], update=fields)
    bulk.insert_many(
        db,
        STATES,
        [state(identity.id, "whereabouts"), state(other.id, "health")],
        key=["identity_id"],
        update=fields,
    )
    db.expire_all()
    rows = {s.identity_id: s for s in db.scalars(select(ConversationState))}
    assert rows[identity.id].node == "whereabouts" and rows[identity.id].data == {
        "answers": {"health": "whereabouts"}
    }
    assert rows[other.id].node == "health" and len(rows) == 2


def test_the_rows_are_part_of_the_caller_s_transaction(db: Session) -> None:
    bulk.insert_many(db, OUTBOX, [message("kept", {})], key=["idempotency_key"])
    db.commit()
    bulk.insert_many(db, OUTBOX, [message("dropped", {})], key=["idempotency_key"])
    bulk.insert_many(db, OUTBOX, [message("also dropped", {})], key=["idempotency_key"])  # staged twice
    db.rollback()
    assert sorted(stored(db)) == ["kept"]


def test_nothing_to_insert_is_a_no_op(db: Session) -> None:
    bulk.insert_many(db, OUTBOX, [], key=["idempotency_key"])
    assert stored(db) == {}


def test_a_rollback_that_undid_the_staging_table_does_not_break_the_next_insert(
    committing_rt: Runtime,
) -> None:
    # On PostgreSQL the first insert creates the connection's staging table inside the transaction;
    # the rollback undoes it, and the connection must not believe it still has it.
    with committing_rt.sessions() as db:
        bulk.insert_many(db, OUTBOX, [message("undone", {})], key=["idempotency_key"])
        db.rollback()
        bulk.insert_many(db, OUTBOX, [message("kept", {})], key=["idempotency_key"])
        db.commit()
        bulk.insert_many(db, OUTBOX, [message("later", {})], key=["idempotency_key"])  # table kept, emptied
        db.commit()
        assert sorted(stored(db)) == ["kept", "later"]
