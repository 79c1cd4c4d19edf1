"""Fixtures of the tip tests: a fresh process's clustering index, a database for real commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.db import make_engine
from bot.models import Base
from bot.services import tip_placement
from tests.conftest import create_pg_database, drop_pg_database, pg_unavailable_reason


@pytest.fixture
def fresh_process() -> Iterator[None]:
    """The test starts as a newly started process: no clustering index in memory yet."""
    saved = dict(tip_placement._indexes)
    tip_placement._indexes.clear()
    yield
    tip_placement._indexes.clear()
    tip_placement._indexes.update(saved)


def _own_pg_engine() -> Iterator[Engine]:
    if reason := pg_unavailable_reason():
        pytest.skip(reason)
    url = create_pg_database()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def committing_engine(request: pytest.FixtureRequest, sqlite_engine: Engine) -> Iterator[Engine]:
    """A database of the test's own, for real commits from several threads."""
    if request.param == "sqlite":
        yield sqlite_engine
    else:
        yield from _own_pg_engine()
