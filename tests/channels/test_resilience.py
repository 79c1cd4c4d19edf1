"""How channels fail: bounded token refresh, transient or permanent, transport errors, no secret logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels import build_channels
from bot.channels.base import ERRCODE_EXPLANATIONS_ZH, Channel, DeliveryError
from bot.channels.tokens import TokenStore
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.runtime import Runtime

from .conftest import APP_SECRET, CORP_SECRET, OA_KEY, TEMPLATE_ID, WECOM_KEY, closed_port_url, runtime_at

TEXT: dict[str, Any] = {"msgtype": "text", "text": {"content": "请完成今日健康打卡"}}
TEMPLATE: dict[str, Any] = {"template_id": TEMPLATE_ID, "data": {"first": {"value": "打卡提醒"}}}


def send_text(channels: dict[str, Channel], openid: str) -> None:
    channels["oa_custom"].send(openid, TEXT)


def test_a_token_invalidated_mid_run_is_refreshed_once_and_the_send_succeeds(
    channels: dict[str, Channel], state: FakeWeChatState, tokens: TokenStore, follower: str
) -> None:
    send_text(channels, follower)
    state.invalidate_tokens()
    send_text(channels, follower)
    send_text(channels, follower)
    assert len(state.delivered("custom")) == 3
    assert [c.errcode for c in state.calls("message/custom/send")] == [0, 40001, 0, 0]
    assert tokens.fetch_count(OA_KEY) == 2
    assert state.token_fetches() == 2


def test_a_wecom_token_invalidated_mid_run_is_refreshed_once(
    channels: dict[str, Channel], state: FakeWeChatState, tokens: TokenStore
) -> None:
    channels["wecom_app"].send("zhangsan", TEXT)
    state.invalidate_tokens()
    channels["wecom_app"].send("zhangsan", TEXT)
    assert len(state.delivered("wecom_app")) == 2
    assert tokens.fetch_count(WECOM_KEY) == 2


def test_a_server_stuck_on_40001_gets_one_refresh_and_one_retry(
    channels: dict[str, Channel], state: FakeWeChatState, tokens: TokenStore, follower: str
) -> None:
    state.inject_fault("message/custom/send", errcode=40001, times=None)
    with pytest.raises(DeliveryError) as caught:
        send_text(channels, follower)
    assert caught.value.transient and caught.value.errcode == 40001
    assert len(state.calls("message/custom/send")) == 2
    assert tokens.fetch_count(OA_KEY) == 2
    assert state.token_fetches() == 2
    # The next message retries once more but does not fetch again so soon: no runaway fetching.
    with pytest.raises(DeliveryError):
        send_text(channels, follower)
    assert len(state.calls("message/custom/send")) == 4
    assert state.token_fetches() == 2


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_busy_and_rate_limit_are_transient(
    channels: dict[str, Channel], state: FakeWeChatState, follower: str, errcode: int
) -> None:
    state.inject_fault("message/template/send", errcode=errcode)
    with pytest.raises(DeliveryError) as caught:
        channels["oa_template"].send(follower, TEMPLATE)
    assert caught.value.transient and caught.value.errcode == errcode
    assert caught.value.explanation_zh == ERRCODE_EXPLANATIONS_ZH[errcode]
    assert len(state.calls("message/template/send")) == 1  # not retried in place: the outbox backs off


def test_not_following_is_permanent_with_a_chinese_explanation(
    channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    state.add_follower("o-gone", subscribed=False)
    with pytest.raises(DeliveryError) as caught:
        channels["oa_template"].send("o-gone", TEMPLATE)
    assert (caught.value.errcode, caught.value.transient) == (43004, False)
    assert caught.value.explanation_zh == "用户未关注公众号"


def test_an_unknown_template_is_permanent_with_a_chinese_explanation(
    channels: dict[str, Channel], follower: str
) -> None:
    with pytest.raises(DeliveryError) as caught:
        channels["oa_template"].send(follower, {**TEMPLATE, "template_id": "no-such-template"})
    assert (caught.value.errcode, caught.value.transient) == (40037, False)
    assert caught.value.explanation_zh == "模板 ID 无效"


def test_a_closed_window_says_so(channels: dict[str, Channel], state: FakeWeChatState) -> None:
    state.add_follower("o-quiet")  # follows, but has not written in 48 h
    with pytest.raises(DeliveryError) as caught:
        send_text(channels, "o-quiet")
    assert caught.value.window_closed and caught.value.errcode == 45015
    assert not caught.value.transient


@pytest.mark.parametrize(("status", "transient"), [(500, True), (502, True), (404, False), (403, False)])
def test_http_errors(
    channels: dict[str, Channel], state: FakeWeChatState, follower: str, status: int, transient: bool
) -> None:
    state.inject_fault("message/custom/send", http_status=status)
    with pytest.raises(DeliveryError) as caught:
        send_text(channels, follower)
    assert (caught.value.http_status, caught.value.transient) == (status, transient)


@pytest.fixture
def impatient(rt: Runtime, fake: FakeWeChatServer) -> Iterator[dict[str, Channel]]:
    """Channels with a 0.3 s HTTP timeout."""
    crt = runtime_at(rt, fake.url, timeout=0.3)
    store = TokenStore(crt)
    yield build_channels(crt, store)
    store.close()


def test_a_hanging_server_times_out_as_a_transient_error(
    impatient: dict[str, Channel], state: FakeWeChatState, follower: str
) -> None:
    state.inject_fault("message/custom/send", timeout=True)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="超时") as caught:
        send_text(impatient, follower)
    assert caught.value.transient
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("name", ["oa_custom", "wecom_app", "wecom_robot"])
def test_connection_refused_is_transient(rt: Runtime, name: str) -> None:
    crt = runtime_at(rt, closed_port_url())
    store = TokenStore(crt)
    try:
        with pytest.raises(DeliveryError, match="无法连接") as caught:
            build_channels(crt, store)[name].send("someone", TEXT)
    finally:
        store.close()
    assert caught.value.transient and caught.value.errcode is None


def test_no_token_or_secret_reaches_the_log_even_on_errors(
    impatient: dict[str, Channel],
    state: FakeWeChatState,
    follower: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued: set[str] = set()
    errors: list[DeliveryError] = []

    def attempt(name: str, recipient: str, payload: dict[str, Any]) -> None:
        try:
            impatient[name].send(recipient, payload)
        except DeliveryError as exc:
            errors.append(exc)
        with state.lock:
            issued.update(state.tokens._tokens)

    attempt("oa_custom", follower, TEXT)
    attempt("wecom_app", "zhangsan", TEXT)
    state.invalidate_tokens()
    attempt("oa_custom", follower, TEXT)  # 40001, refresh, retry
    state.inject_fault("message/send", errcode=40001, times=2)
    attempt("wecom_app", "zhangsan", TEXT)  # stuck on 40001
    state.inject_fault("*", http_status=500)
    attempt("oa_template", follower, TEMPLATE)
    state.inject_fault("message/custom/send", timeout=True)
    attempt("oa_custom", follower, TEXT)
    assert len(issued) >= 3 and len(errors) == 3
    assert "/cgi-bin/message/custom/send" in caplog.text  # the requests were logged ...
    for secret in [*issued, APP_SECRET, CORP_SECRET]:
        assert secret not in caplog.text  # ... without their credentials
        assert all(secret not in f"{e!s} {e!r} {e.explanation_zh}" for e in errors)
