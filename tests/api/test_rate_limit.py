"""Each API token's request budget: 429 with Retry-After and the API's error body, per token, shared by
web workers through Redis with the Celery backend, and never an outage when Redis is gone."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.config import replace
from bot.models import Role
from bot.runtime import Runtime
from bot.services import staff
from bot.services.audit import SYSTEM
from tests.delivery.conftest import REDIS_URL, redis_unavailable_reason
from tests.factories import make_user
from web import create_app

RESIDENTS = "/api/v1/residents"


def _app(rt: Runtime, **delivery: Any) -> Flask:
    """A web worker with a budget of three requests a minute per token."""
    settings = replace(rt.settings, web={"api_rate_limit": "3/minute"}, delivery=delivery)
    app = create_app(runtime=Runtime(settings, rt.engine, rt.sessions))
    app.config.update(TESTING=True)
    return app


def _tokens(db: Session, count: int) -> list[str]:
    user = make_user(db, Role.ADMIN)
    tokens = [staff.create_api_token(db, SYSTEM, user) for _ in range(count)]
    db.commit()
    return tokens


def _get(app: Flask, token: str, path: str = RESIDENTS) -> Any:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_token_over_its_budget_gets_429_with_retry_after_and_others_are_not_affected(
    rt: Runtime, db: Session
) -> None:
    app = _app(rt)
    busy, other = _tokens(db, 2)
    assert [_get(app, busy).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get(app, busy, "/api/v1/stats")  # one budget for every resource
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and refused.headers["Retry-After"] in error["message"]
    assert _get(app, other).status_code == 200  # per token, not per user or address
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200  # no token, no budget
    assert _get(app, "lx_not-a-token").status_code == 401  # refused before any budget is looked at


def test_the_openapi_document_declares_429_and_its_retry_after(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    declared = doc["components"]["responses"]["TooManyRequests"]
    assert declared["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    statuses = {path: set(item["get"]["responses"]) for path, item in doc["paths"].items()}
    assert "429" in statuses[RESIDENTS] and "429" not in statuses["/api/v1/openapi.json"]


@pytest.mark.redis
def test_web_workers_share_the_budget_through_redis_with_the_celery_backend(rt: Runtime, db: Session) -> None:
    if reason := redis_unavailable_reason():
        pytest.skip(reason)
    first, second = (_app(rt, backend="celery", broker_url=REDIS_URL) for _ in range(2))
    [token] = _tokens(db, 1)  # a fresh token: its Redis key is new to this server
    assert [_get(worker, token).status_code for worker in (first, second, first)] == [200, 200, 200]
    assert _get(second, token).status_code == 429
    assert _get(first, token).status_code == 429


def test_redis_unreachable_lets_requests_through_and_says_so(
    rt: Runtime, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(rt, backend="celery", broker_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    [token] = _tokens(db, 1)
    with caplog.at_level(logging.WARNING, logger="web.api.limit"):
        assert [_get(app, token).status_code for _ in range(5)] == [200] * 5
    assert "API rate limit not counted" in caplog.text
