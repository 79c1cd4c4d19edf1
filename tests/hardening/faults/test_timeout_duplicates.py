"""Which sends go twice when WeChat's answer times out: exactly those WeChat carried out although the
client gave up on the answer. A time-out WeChat did not act on is retried and arrives once; every other
recipient gets the message once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxMessage, OutboxStatus
from bot.runtime import Runtime
from tests.delivery.support import all_sent, delivering, enqueue_templates, openid, status_counts, wait_until

TEMPLATE_SEND = "message/template/send"
PROMPTS = 40
ACTED_ON = {openid(3), openid(17), openid(29)}  # accepted, answer held past the client's time-out
LOST = {openid(8), openid(22)}  # held past the time-out and never carried out
UNTHROTTLED = RateGate(limits={"oa_template": "1000000/minute"})


@pytest.mark.usefixtures("fast_retries")
def test_duplicates_are_exactly_the_sends_wechat_carried_out_after_the_client_gave_up(
    live_rt: Runtime, state: FakeWeChatState
) -> None:
    enqueue_templates(live_rt, state, PROMPTS)
    for recipient in ACTED_ON:
        state.inject_fault(TEMPLATE_SEND, late=True, touser=recipient)
    for recipient in LOST:
        state.inject_fault(TEMPLATE_SEND, timeout=True, touser=recipient)
    with delivering(live_rt, threads=4, gate=UNTHROTTLED):
        wait_until(all_sent(live_rt, PROMPTS), what=lambda: f"all sent: {status_counts(live_rt)}")

    held = [c for c in state.calls(TEMPLATE_SEND) if c.held]
    assert sorted(c.json["touser"] for c in held) == sorted(ACTED_ON | LOST)  # each fault hit its one call
    received = Counter(d.target for d in state.delivered("template"))
    assert {r for r, n in received.items() if n > 1} == ACTED_ON
    assert received == Counter({openid(n): 2 if openid(n) in ACTED_ON else 1 for n in range(PROMPTS)})
    with live_rt.session() as db:
        rows = db.scalars(select(OutboxMessage)).all()
        attempts = {row.recipient: row.attempts for row in rows}
        assert {row.status for row in rows} == {OutboxStatus.SENT}
    # The outbox cannot tell the two kinds of time-out apart: both rows were retried once.
    assert {r for r, n in attempts.items() if n > 1} == ACTED_ON | LOST
    assert all(attempts[r] == 2 for r in ACTED_ON | LOST)
