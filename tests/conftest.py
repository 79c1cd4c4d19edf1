"""The one fixture module: settings, databases (SQLite and PostgreSQL), app, client, factories.

Database tests run on both backends: the ``engine`` fixture is parametrised, and each
test works inside a transaction that is rolled back (savepoints for the code's commits),
so the schema is built once per backend per run, not per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot import privacy
from bot.config import Settings, replace, settings_from_dict
from bot.db import make_engine, normalize_url
from bot.models import Base
from bot.runtime import Runtime

PG_ADMIN_URL = normalize_url(os.environ.get("LANXI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
_pg_state: dict[str, str | None] = {}


def pg_unavailable_reason() -> str | None:
    """None when the PostgreSQL test server answers, else why not (checked once per run)."""
    if "reason" not in _pg_state:
        try:
            probe = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with probe.connect() as conn:
                conn.execute(text("SELECT 1"))
            probe.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure means: skip, and say why once
            _pg_state["reason"] = (
                f"PostgreSQL tests skipped: {PG_ADMIN_URL} unreachable ({type(exc).__name__})"
            )
    return _pg_state["reason"]


def pytest_report_header(config: pytest.Config) -> str:
    return pg_unavailable_reason() or f"PostgreSQL tests against {make_url(PG_ADMIN_URL).render_as_string()}"


def create_pg_database() -> str:
    """A fresh database for this run (isolated from other runs on the same server)."""
    name = f"lanxi_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("lanxi")
    settings = settings_from_dict({"database": {"url": f"sqlite:///{root}/lanxi.db"}}, source="tests")
    privacy.configure(settings.privacy.encryption_key)
    return settings


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "postgresql":
        if reason := pg_unavailable_reason():
            pytest.skip(reason)
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/test.db"
    eng = make_engine(url)
    # The schema from the models (fast, and free of migration churn while models grow);
    # tests/test_migrations.py proves the migrations build the same schema.
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture()
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite database of its own, for tests that need real commits."""
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('own')}/own.db")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def rt(engine: Engine, base_settings: Settings) -> Iterator[Runtime]:
    """A Runtime whose sessions all join one outer transaction, rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    sessions = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    settings = replace(base_settings, database={"url": engine.url.render_as_string(hide_password=False)})
    yield Runtime(settings, engine, sessions)
    outer.rollback()
    conn.close()


@pytest.fixture()
def db(rt: Runtime) -> Iterator[Session]:
    session = rt.sessions()
    yield session
    session.close()


@pytest.fixture()
def app(rt: Runtime) -> Flask:
    from web import create_app

    application = create_app(runtime=rt)
    application.config.update(TESTING=True)
    return application


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=["sqlite", "postgresql"])
def committing_rt(
    request: pytest.FixtureRequest, base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """A Runtime over a fresh database with real commits, for tests of concurrency and crashes."""
    if request.param == "postgresql":
        if reason := pg_unavailable_reason():
            pytest.skip(reason)
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('commit')}/commit.db"
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    settings = replace(base_settings, database={"url": url})
    yield Runtime.from_settings(settings, eng)
    eng.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)
