"""After the migrations, the database itself refuses to rewrite or erase audit events (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bot import migrate
from bot.db import make_engine
from tests.conftest import create_pg_database, drop_pg_database, pg_unavailable_reason

_REFUSALS = [
    "UPDATE audit_events SET action = 'rewritten'",
    "DELETE FROM audit_events",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        if reason := pg_unavailable_reason():
            pytest.skip(reason)
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path}/audit.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (at, actor_label, action, record_type, record_id, ip, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'test.event', 'x', '1', '', '{}')"
            )
        )
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def _actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT action FROM audit_events")))


@pytest.mark.parametrize("statement", _REFUSALS)
def test_raw_sql_cannot_change_audit_events(migrated: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), migrated.begin() as conn:
        conn.execute(text(statement))
    assert _actions(migrated) == ["test.event"]


def test_truncate_refused_on_postgresql(migrated: Engine) -> None:
    if migrated.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), migrated.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    assert _actions(migrated) == ["test.event"]


def test_inserts_still_work_and_downgrade_lifts_the_guard(migrated: Engine) -> None:
    with migrated.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (at, actor_label, action, record_type, record_id, ip, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'second', 'x', '2', '', '{}')"
            )
        )
    assert sorted(_actions(migrated)) == ["second", "test.event"]
    migrate.downgrade(migrated, "0001")
    with migrated.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'allowed'"))
    assert _actions(migrated) == ["allowed", "allowed"]
