"""The shared token store: one fetch however many threads, stores or processes ask."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete

from bot.channels.base import DeliveryError
from bot.channels.http import WeChatHttp
from bot.channels.tokens import Fetched, TokenStore, oa_key
from bot.config import Settings, replace
from bot.db import make_sessionmaker
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.models import AccessToken
from bot.models.base import utcnow
from bot.runtime import Runtime

from .conftest import OA_KEY, WECOM_KEY, pointed_at


def test_get_fetches_a_stable_token_once_and_keeps_it(tokens: TokenStore, state: FakeWeChatState) -> None:
    first = tokens.get(OA_KEY)
    assert tokens.get(OA_KEY) == first
    assert tokens.fetch_count(OA_KEY) == 1
    assert state.token_fetches(endpoint="stable_token") == 1
    assert state.token_fetches(endpoint="token") == 0


def test_two_stores_over_one_database_fetch_once_between_them(
    crt: Runtime, tokens: TokenStore, state: FakeWeChatState
) -> None:
    other = TokenStore(crt)
    try:
        assert other.get(OA_KEY) == tokens.get(OA_KEY)
    finally:
        other.close()
    assert tokens.fetch_count(OA_KEY) == 1
    assert state.token_fetches() == 1


def test_twenty_threads_asking_at_once_cause_one_fetch(tokens: TokenStore, state: FakeWeChatState) -> None:
    state.set_latency("stable_token", 100)  # the fetch is slow: the other threads pile up behind it
    start = threading.Barrier(20)

    def ask() -> str:
        start.wait()
        return tokens.get(OA_KEY)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: ask(), range(20)))
    assert len(set(results)) == 1
    assert tokens.fetch_count(OA_KEY) == 1
    assert state.token_fetches() == 1


def test_wecom_tokens_come_from_gettoken(tokens: TokenStore, state: FakeWeChatState) -> None:
    assert tokens.get(WECOM_KEY)
    assert tokens.fetch_count(WECOM_KEY) == 1
    assert state.token_fetches(endpoint="gettoken") == 1


def test_refresh_takes_the_token_another_store_already_fetched(
    crt: Runtime, tokens: TokenStore, state: FakeWeChatState
) -> None:
    other = TokenStore(crt)
    try:
        stale = tokens.get(OA_KEY)
        assert other.get(OA_KEY) == stale
        state.invalidate_tokens()
        fresh = tokens.refresh(OA_KEY, stale)
        assert fresh != stale
        assert other.refresh(OA_KEY, stale) == fresh  # read from the database, not fetched again
    finally:
        other.close()
    assert tokens.fetch_count(OA_KEY) == 2
    assert state.token_fetches() == 2


def test_a_token_close_to_expiry_is_refreshed(
    crt: Runtime, tokens: TokenStore, state: FakeWeChatState
) -> None:
    tokens.get(OA_KEY)
    later = TokenStore(crt, clock=lambda: utcnow() + timedelta(seconds=7200 - 200))
    try:
        later.get(OA_KEY)  # 200 s left: under the 5-minute margin
    finally:
        later.close()
    assert tokens.fetch_count(OA_KEY) == 2


class ShortLived:
    """A source whose tokens arrive with little life left (stable_token near its end)."""

    def __init__(self, expires_in: int) -> None:
        self.expires_in = expires_in
        self.fetches = 0

    def fetch(self, http: WeChatHttp) -> Fetched:
        self.fetches += 1
        return Fetched(f"short-lived-token-{self.fetches:04d}-" + "x" * 20, self.expires_in)


def test_a_short_lived_token_is_used_for_half_its_life_not_refetched_each_call(rt: Runtime) -> None:
    source = ShortLived(expires_in=200)
    now = utcnow()
    clock = {"now": now}
    store = TokenStore(rt, sources={"oa:short": source}, clock=lambda: clock["now"])
    try:
        token = store.get("oa:short")
        assert store.get("oa:short") == token
        clock["now"] = now + timedelta(seconds=99)
        assert store.get("oa:short") == token
        clock["now"] = now + timedelta(seconds=101)
        assert store.get("oa:short") != token
    finally:
        store.close()
    assert source.fetches == 2


@pytest.mark.parametrize(
    ("section", "key"), [("wechat", OA_KEY), ("wecom", WECOM_KEY)], ids=["app_secret", "corp_secret"]
)
def test_a_wrong_secret_is_a_permanent_error_and_stores_no_token(
    rt: Runtime, fake: FakeWeChatServer, section: str, key: str
) -> None:
    field = "app_secret" if section == "wechat" else "secret"
    settings = replace(pointed_at(rt.settings, fake.url), **{section: {field: "wrong-secret"}})
    store = TokenStore(Runtime(settings, rt.engine, rt.sessions))
    try:
        with pytest.raises(DeliveryError) as caught:
            store.get(key)
    finally:
        store.close()
    assert not caught.value.transient
    assert store.fetch_count(key) == 0


def test_an_unknown_key_is_refused_before_any_fetch(tokens: TokenStore, state: FakeWeChatState) -> None:
    with pytest.raises(KeyError, match="oa:nobody"):
        tokens.get("oa:nobody")
    assert state.token_fetches() == 0


def test_a_token_endpoint_outage_is_transient(tokens: TokenStore, state: FakeWeChatState) -> None:
    state.inject_fault("stable_token", http_status=502)
    with pytest.raises(DeliveryError) as caught:
        tokens.get(OA_KEY)
    assert caught.value.transient and caught.value.http_status == 502
    assert tokens.get(OA_KEY)  # the next call fetches normally
    assert tokens.fetch_count(OA_KEY) == 1


# -- real commits: several "processes" (stores with their own engine connections) -----------------------
@pytest.fixture
def shared_app(
    engine: Engine, base_settings: Settings, fake: FakeWeChatServer
) -> Iterator[tuple[str, Callable[[], Runtime]]]:
    """(token key, Runtime factory): Runtimes committing for real, for an app id of this test's own."""
    appid = "wx" + uuid.uuid4().hex[:16]
    fake.state.register_app(appid, "shared-app-secret")
    settings = replace(
        pointed_at(base_settings, fake.url),
        database={"url": engine.url.render_as_string(hide_password=False)},
        wechat={"app_id": appid, "app_secret": "shared-app-secret"},
    )
    yield oa_key(appid), lambda: Runtime(settings, engine, make_sessionmaker(engine))
    with make_sessionmaker(engine)() as db, db.begin():
        db.execute(delete(AccessToken).where(AccessToken.key == oa_key(appid)))


def test_stores_in_separate_processes_fetch_once_between_them(
    shared_app: tuple[str, Callable[[], Runtime]], state: FakeWeChatState
) -> None:
    key, new_runtime = shared_app
    stores = [TokenStore(new_runtime()) for _ in range(3)]
    state.set_latency("stable_token", 100)  # slow fetches: the threads overlap

    def together(ask: Callable[[TokenStore], str]) -> set[str]:
        start = threading.Barrier(12)

        def one(index: int) -> str:
            start.wait()
            return ask(stores[index % 3])

        with ThreadPoolExecutor(12) as pool:
            return set(pool.map(one, range(12)))

    try:
        [first] = together(lambda store: store.get(key))
        assert stores[0].fetch_count(key) == 1
        assert state.token_fetches() == 1
        # The token goes stale; every store is told so at once: the row lock lets one of them fetch.
        state.invalidate_tokens()
        [fresh] = together(lambda store: store.refresh(key, first))
        assert fresh != first
        assert stores[0].fetch_count(key) == 2
        assert state.token_fetches() == 2
    finally:
        for store in stores:
            store.close()
