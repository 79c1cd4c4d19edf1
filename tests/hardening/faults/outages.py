"""Database outages for a committing Runtime, on either backend.

PostgreSQL: real ones (connections refused and terminated; or the database set read-only and every
session restarted). SQLite (tests run as root, so chmod cannot stop writes): an exclusive lock held by
another connection, or every new connection opened with ``query_only``, pooled ones dropped first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from bot.runtime import Runtime
from tests.conftest import PG_ADMIN_URL

TERMINATE = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
)


def _admin(sql: str, db_name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql.format(db=f'"{db_name}"')))
        conn.execute(TERMINATE, {"d": db_name})
    admin.dispose()


@contextmanager
def database_down(rt: Runtime) -> Iterator[None]:
    """No connection to the database is possible until the block ends."""
    if rt.engine.dialect.name == "postgresql":
        name = str(make_url(rt.settings.database.url).database)
        _admin("ALTER DATABASE {db} ALLOW_CONNECTIONS false", name)
        try:
            yield
        finally:
            _admin("ALTER DATABASE {db} ALLOW_CONNECTIONS true", name)
        return
    holder = create_engine(rt.settings.database.url, connect_args={"isolation_level": None})
    with holder.connect() as conn:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.exec_driver_sql("ROLLBACK")
    holder.dispose()


@contextmanager
def read_only(rt: Runtime) -> Iterator[None]:
    """Reads work, every write fails (a read-only mount, a full disk) until the block ends."""
    engine: Engine = rt.engine
    if engine.dialect.name == "postgresql":
        name = str(make_url(rt.settings.database.url).database)
        _admin("ALTER DATABASE {db} SET default_transaction_read_only = on", name)
        engine.dispose()
        try:
            yield
        finally:
            _admin("ALTER DATABASE {db} RESET default_transaction_read_only", name)
            engine.dispose()
        return

    def query_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", query_only)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "connect", query_only)
        engine.dispose()
