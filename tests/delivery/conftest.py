"""Fixtures for the delivery tests: a live fake WeChat, runtimes pointed at it, fast delivery loops, Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from bot.channels import build_channels
from bot.channels.base import Channel
from bot.channels.tokens import TokenStore
from bot.delivery import inline
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.runtime import Runtime
from bot.services import outbox

from .support import at_fake, wechat_state

REDIS_URL = "redis://127.0.0.1:6379/0"
_redis_state: dict[str, str | None] = {}


def redis_unavailable_reason() -> str | None:
    """None when the Redis server answers, else why not (checked once per run)."""
    if "reason" not in _redis_state:
        try:
            client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
            client.close()
            _redis_state["reason"] = None
        except redis.RedisError as exc:
            _redis_state["reason"] = f"Redis tests skipped: {REDIS_URL} unreachable ({type(exc).__name__})"
    return _redis_state["reason"]


@pytest.fixture
def redis_url() -> str:
    if reason := redis_unavailable_reason():
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def run_id() -> str:
    """Names this test's Redis queue and rate buckets apart from every other run on the same server."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def state() -> FakeWeChatState:
    return wechat_state()


@pytest.fixture
def fake(state: FakeWeChatState) -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(state) as server:
        yield server


@pytest.fixture
def wrt(rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    """The test's rolled-back Runtime with WeChat at the fake (one thread only: one connection)."""
    return at_fake(rt, fake.url)


@pytest.fixture
def live_rt(committing_rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    """A Runtime with real commits (threads and subprocesses may share it) and WeChat at the fake."""
    return at_fake(committing_rt, fake.url)


@pytest.fixture
def channels(wrt: Runtime) -> Iterator[dict[str, Channel]]:
    tokens = TokenStore(wrt)
    yield build_channels(wrt, tokens)
    tokens.close()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in milliseconds and idle threads polling often, so retries happen within a test."""
    monkeypatch.setattr(outbox, "BACKOFF_BASE", timedelta(milliseconds=20))
    monkeypatch.setattr(inline, "IDLE_POLL_SECONDS", 0.02)
