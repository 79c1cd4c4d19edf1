"""The outbox against the local WeChat over real HTTP: retries and backoff, permanent failures, the
customer-service window's template fallback, a token lost mid-run, and a robot's rate limit."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.channels.base import Channel
from bot.channels.tokens import oa_key
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox
from bot.services.advisory_sending import robot_rate_key

from .support import (
    APPID,
    ROBOT_A,
    ROBOT_B,
    all_sent,
    at_fake,
    delivering,
    enqueue_templates,
    openid,
    row,
    status_counts,
    template,
    text,
    wait_until,
    wechat_state,
)

TEMPLATE_SEND = "message/template/send"
CUSTOM_SEND = "message/custom/send"

TRANSIENT = {
    "busy -1": ({"errcode": -1}, "微信系统繁忙"),
    "rate limited 45009": ({"errcode": 45009}, "接口调用超过频率或额度限制"),
    "HTTP 502": ({"http_status": 502}, "HTTP 502"),
    "timeout": ({"timeout": True}, "超时"),
}


def make_due(rt: Runtime, row_id: int) -> None:
    """The clock reaches the row's next attempt."""
    with rt.session() as db:
        db.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(next_attempt_at=utcnow()))


def enqueue_custom(rt: Runtime, key: str, to: str, **extra: Any) -> int:
    with rt.session() as db:
        return outbox.enqueue(
            db, key=key, channel="oa_custom", recipient=to, payload={**text("您好"), **extra}
        ).id


@pytest.mark.parametrize(("fault", "reason"), TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_failures_back_off_exponentially_then_deliver(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState, fault: dict[str, Any], reason: str
) -> None:
    state.set_latency(TEMPLATE_SEND, 30)
    state.inject_fault(TEMPLATE_SEND, times=3, **fault)
    [row_id] = enqueue_templates(wrt, state, 1)
    for attempt in (1, 2, 3):
        assert drain(wrt, channels, RateGate()) == 1
        queued = row(wrt, row_id)
        assert (queued.status, queued.attempts) == (OutboxStatus.QUEUED, attempt)
        assert queued.last_errcode == fault.get("errcode") and reason in queued.last_error
        ceiling = outbox.BACKOFF_BASE * 2 ** (attempt - 1)
        assert ceiling / 2 - timedelta(seconds=1) < queued.next_attempt_at - utcnow() <= ceiling
        assert drain(wrt, channels, RateGate()) == 0  # not before its time
        make_due(wrt, row_id)
    assert drain(wrt, channels, RateGate()) == 1
    sent = row(wrt, row_id)
    [delivery] = state.delivered("template", openid(0))
    assert (sent.status, sent.attempts, sent.wechat_msgid) == (OutboxStatus.SENT, 4, delivery.msgid)
    assert len(state.calls(TEMPLATE_SEND)) == 4


@pytest.mark.parametrize(
    ("recipient_follows", "errcode", "reason"),
    [(False, 43004, "用户未关注公众号"), (True, 45015, "用户 48 小时内未互动，客服消息窗口已关闭")],
    ids=["not following", "window closed, no fallback"],
)
def test_permanent_errors_fail_at_once_with_the_reason_in_chinese(
    wrt: Runtime,
    channels: dict[str, Channel],
    state: FakeWeChatState,
    recipient_follows: bool,
    errcode: int,
    reason: str,
) -> None:
    if recipient_follows:
        state.add_follower(openid(1))
    row_id = enqueue_custom(wrt, "k1", openid(1))
    assert drain(wrt, channels, RateGate()) == 1
    failed = row(wrt, row_id)
    assert (failed.status, failed.attempts, failed.last_errcode) == (OutboxStatus.FAILED, 1, errcode)
    assert failed.last_error == reason
    assert [c.errcode for c in state.calls(CUSTOM_SEND)] == [errcode]
    assert drain(wrt, channels, RateGate()) == 0  # never retried


@pytest.mark.parametrize(("used", "errcode"), [(0, 45015), (5, 45047)], ids=["never wrote", "five used"])
def test_a_closed_or_used_up_window_falls_back_to_the_template(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState, used: int, errcode: int
) -> None:
    state.add_follower(openid(1))
    if used:
        state.user_interaction(openid(1))  # opens the window for five customer-service messages
    fallback = {"channel": "oa_template", "payload": template(1)}
    ids = [enqueue_custom(wrt, f"k{n}", openid(1), fallback=fallback) for n in range(used + 1)]
    assert drain(wrt, channels, RateGate()) == used + 1
    assert status_counts(wrt) == {OutboxStatus.SENT: used + 1}
    assert len(state.delivered("custom", openid(1))) == used
    [delivery] = state.delivered("template", openid(1))
    assert (
        "fallback" not in delivery.payload and delivery.payload["template_id"] == template(1)["template_id"]
    )
    assert row(wrt, ids[-1]).wechat_msgid == delivery.msgid
    assert state.calls(CUSTOM_SEND)[-1].errcode == errcode


@pytest.mark.slow
@pytest.mark.usefixtures("fast_retries")
def test_two_workers_through_error_bursts_latency_and_a_lost_token_deliver_everything_once(
    live_rt: Runtime, state: FakeWeChatState
) -> None:
    state.set_latency(TEMPLATE_SEND, 15)
    for fault in ({"errcode": -1}, {"errcode": 45009}, {"http_status": 503}, {"timeout": True}):
        state.inject_fault(TEMPLATE_SEND, times=3, **fault)
    ids = enqueue_templates(live_rt, state, 60)
    # Two workers, each with its own token store, as two processes would be.
    with delivering(live_rt, threads=2) as tokens, delivering(live_rt, threads=2):
        wait_until(lambda: len(state.delivered("template")) >= 15, what="a first share delivered")
        state.invalidate_tokens()
        wait_until(all_sent(live_rt, 60), what="60 rows sent")
        assert tokens.fetch_count(oa_key(APPID)) == 2
    assert state.token_fetches() == 2  # the first token and exactly one refresh, for both workers
    assert [c for c in state.calls(TEMPLATE_SEND) if c.errcode == 40001], "invalidated too late to matter"
    assert Counter(d.target for d in state.delivered("template")) == {openid(n): 1 for n in range(60)}
    # Twelve injected failures cost twelve attempts; a refreshed token is retried in place, for free.
    assert sum(row(live_rt, i).attempts for i in ids) == 60 + 12


def sliding_max(times: list[float], span: float) -> int:
    """The most events in any window of ``span`` seconds."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + span) for i, start in enumerate(times))


@pytest.mark.slow
def test_each_robot_gets_its_own_budget_and_the_delivered_rate_follows_it(committing_rt: Runtime) -> None:
    # A compressed clock: the fake's 20 a minute per robot becomes 20 a second, the gate allows 10 a second.
    speed, start, per_robot, limit = 60.0, time.time(), 30, 10
    state = wechat_state(clock=lambda: start + (time.time() - start) * speed)
    with FakeWeChatServer(state) as fake:
        rt = at_fake(committing_rt, fake.url)
        with rt.session() as db:
            for n in range(per_robot):
                for key in (ROBOT_A, ROBOT_B):
                    outbox.enqueue(
                        db,
                        key=f"advisory:{n}:{key[:8]}",
                        channel="wecom_robot",
                        recipient=key,
                        payload=text(f"防疫提示 {n}"),
                        rate_key=robot_rate_key(key),
                    )
        with delivering(rt, threads=4, gate=RateGate(limits={"robot": f"{limit}/second"})):
            wait_until(all_sent(rt, 2 * per_robot), what="robot messages sent")
    assert [c for c in state.calls("webhook/send") if c.errcode != 0] == []  # WeChat never said 45009
    for key in (ROBOT_A, ROBOT_B):
        real = [start + (d.at - start) / speed for d in state.delivered("robot", key)]
        assert len(real) == per_robot
        assert sliding_max(real, 0.75) <= limit  # a window a little short of 1 s: network jitter
        span = max(real) - min(real)
        rate = (per_robot - limit) / span  # the first `limit` go at once, the rest at the gate's pace
        assert 0.6 * limit <= rate <= 1.1 * limit, f"{rate:.1f}/s over {span:.2f} s"
