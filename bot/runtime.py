"""Everything a process needs to talk to the database, built once from Settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import privacy
from bot.config import Settings
from bot.db import begin_immediate, is_sqlite, make_engine, make_sessionmaker, session_scope


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Called after a commit that added outbox rows: wakes inline delivery threads or publishes
    # a Celery task. Rows are never lost if nobody listens: workers also poll.
    outbox_listeners: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine | None = None) -> Runtime:
        privacy.configure(settings.privacy.encryption_key)
        settings = settings.resolved()
        engine = engine or make_engine(settings.database.url, pool_size=settings.database.pool_size)
        return cls(settings, engine, make_sessionmaker(engine))

    @property
    def parallel_writers(self) -> int:
        """How many sessions may write at once: one on SQLite (a single writer) or when every
        session shares one connection (a test's rolled-back transaction), else the pool's size."""
        if is_sqlite(self.engine) or isinstance(self.sessions.kw.get("bind"), Connection):
            return 1
        return self.settings.database.pool_size

    def notify_outbox(self) -> None:
        for listener in self.outbox_listeners:
            listener()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as db:
            yield db

    @contextmanager
    def writer(self) -> Iterator[Session]:
        """A session for reading then writing (a job's unit of work). On SQLite it holds the write
        lock from its first statement: a read snapshot that another connection's commit made stale
        cannot be upgraded, and the write would fail at once with "database is locked"."""
        with self.session() as db:
            begin_immediate(db)
            yield db
