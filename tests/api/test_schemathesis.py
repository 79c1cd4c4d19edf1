"""Property-based conformance of the API to its own OpenAPI document (Schemathesis, in-process WSGI).

Every operation gets valid and invalid requests (a few hundred in all, authorised with an
admin token) against a database seeded with one realistic day; each response must not be a
server error and must match the documented status codes, content type and schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import Engine

from bot.config import Settings, replace
from bot.db import make_sessionmaker
from bot.models import Role
from bot.runtime import Runtime
from bot.services import reports, staff
from bot.services.audit import SYSTEM
from tests.factories import make_user
from tests.reports.scenario import DAY, NOW, TZ, build
from web import create_app

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}

pytestmark = pytest.mark.slow


@pytest.fixture()
def seeded_app(sqlite_engine: Engine, base_settings: Settings) -> Iterator[tuple[Flask, str]]:
    settings = replace(
        base_settings,
        database={"url": sqlite_engine.url.render_as_string(hide_password=False)},
        web={"api_rate_limit": "100000/minute"},  # a few hundred calls in seconds, all to be checked
    )
    rt = Runtime(settings, sqlite_engine, make_sessionmaker(sqlite_engine))
    with rt.session() as db:
        build(db)
        reports.draft(db, DAY, tz=TZ, now=NOW)
        token = staff.create_api_token(db, SYSTEM, make_user(db, Role.ADMIN))
    app = create_app(runtime=rt)
    app.config.update(TESTING=True)
    yield app, token


def test_api_conforms_to_its_openapi_document(seeded_app: tuple[Flask, str]) -> None:
    app, token = seeded_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    calls = 0
    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(headers=auth)

            check()
    assert calls >= 200
