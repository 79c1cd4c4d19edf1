"""Migrations: one head; upgrade → downgrade → upgrade; models and migrations agree. Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from bot import migrate
from bot.db import make_engine
from tests.conftest import create_pg_database, drop_pg_database, pg_unavailable_reason


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        if reason := pg_unavailable_reason():
            pytest.skip(reason)
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def test_single_head() -> None:
    assert len(migrate.head_revisions()) == 1


def test_upgrade_downgrade_upgrade_and_check(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revisions()[0]
    tables = set(inspect(empty_engine).get_table_names())
    assert {"residents", "outbox", "inbound_messages", "audit_events", "leads"} <= tables
    migrate.check(empty_engine)  # raises when models and migrations disagree
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    migrate.check(empty_engine)
