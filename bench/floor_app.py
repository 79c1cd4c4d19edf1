"""The durable floor: the bare reference app plus one durable write per request.

Per callback it runs ONE ``INSERT … ON CONFLICT DO NOTHING`` of a unique row (keyed by the
request's ``msg_signature``) and commits it, on a plain driver connection per worker: no ORM, no
SQLAlchemy, no crypto, no XML. Any implementation that stores the message before answering, as
the callback must, pays at least this. Same gunicorn settings as ``web.wsgi:app``.

The database is ``$LANXI_BENCH_FLOOR_URL``: ``postgresql://…`` (psycopg, the server's
``synchronous_commit = on``) or ``sqlite:///path`` (the project's pragmas: WAL,
``synchronous = NORMAL``, the same as the embedded app).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Protocol

import psycopg
from flask import Request

from bench.bare_app import reference_app
from bot.db import sqlite_pragmas

URL_ENV = "LANXI_BENCH_FLOOR_URL"
CREATE_TABLE = "CREATE TABLE floor_rows (key VARCHAR(200) PRIMARY KEY, received_at TIMESTAMP NOT NULL)"
_SQLITE_PREFIX = "sqlite:///"


class _Connection(Protocol):
    def store(self, key: str, at: datetime) -> None: ...


class _Postgres:
    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url)

    def store(self, key: str, at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO floor_rows (key, received_at) VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, at)
        )
        self._conn.commit()


class _SQLite:
    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        sqlite_pragmas(self._conn, None)

    def store(self, key: str, at: datetime) -> None:
        self._conn.execute("BEGIN IMMEDIATE")  # as the callback does: it holds the write lock
        self._conn.execute(
            "INSERT INTO floor_rows (key, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, at.isoformat(" ")),
        )
        self._conn.execute("COMMIT")


@cache
def _connection() -> _Connection:
    """This worker's connection, opened on its first request (after gunicorn's fork)."""
    url = os.environ[URL_ENV]
    if url.startswith(_SQLITE_PREFIX):
        return _SQLite(url.removeprefix(_SQLITE_PREFIX))
    return _Postgres(url)


def _store(req: Request) -> None:
    key = req.args.get("msg_signature") or uuid.uuid4().hex
    _connection().store(key, datetime.now(UTC).replace(tzinfo=None))


app = reference_app(store=_store)
