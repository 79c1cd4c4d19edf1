"""Sending leases: a row in flight is never taken over; a row taken over is sent by its new holder only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot.channels.base import Channel, SendResult
from bot.db import begin_immediate
from bot.delivery.deliverer import deliver
from bot.delivery.inline import claim_batch
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox

from .support import enqueue_templates, row


def claimed_long_ago(rt: Runtime, worker: str) -> list[int]:
    """Claims every due row for ``worker``, as if ten minutes ago: longer than the sending lease."""
    with rt.session() as db:
        begin_immediate(db)
        ids = outbox.claim(db, worker, 50)
        long_ago = utcnow() - timedelta(minutes=10)
        db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_at=long_ago))
    return ids


class Peeking:
    """Another worker looks for stale rows while this send is on its way to WeChat."""

    name = "oa_template"

    def __init__(self, rt: Runtime, inner: Channel) -> None:
        self.rt, self.inner, self.taken_over = rt, inner, list[int]()

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        self.taken_over += claim_batch(self.rt, "other-worker")
        return self.inner.send(recipient, payload)


def test_the_lease_runs_from_the_send_so_a_row_in_flight_is_not_taken_over(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    [row_id] = enqueue_templates(wrt, state, 1)
    assert claimed_long_ago(wrt, "slow-worker") == [row_id]
    peeking = Peeking(wrt, channels["oa_template"])
    assert deliver(wrt, row_id, {"oa_template": peeking}, RateGate(), "slow-worker") == OutboxStatus.SENT
    assert peeking.taken_over == []
    assert len(state.delivered("template")) == 1


def test_a_row_taken_over_after_the_lease_is_sent_by_its_new_holder_only(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    first, second = enqueue_templates(wrt, state, 2)
    assert claimed_long_ago(wrt, "slow-worker") == [first, second]
    # The slow worker is still busy with `first` when another worker reclaims what it had not sent yet.
    assert claim_batch(wrt, "other-worker") == [first, second]
    assert deliver(wrt, second, channels, RateGate(), "slow-worker") == OutboxStatus.SENDING
    assert row(wrt, second).claimed_by == "other-worker"
    assert deliver(wrt, second, channels, RateGate(), "other-worker") == OutboxStatus.SENT
    assert len(state.delivered("template")) == 1
