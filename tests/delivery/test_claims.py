"""Sending leases: a row in flight is never taken over; a row taken over is sent by its new holder only.

A worker checks and renews its claim only once the claim is older than a part of the lease
(``deliverer.RENEW_AFTER``): these tests hold claims that are older than the whole lease.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot.channels.base import Channel, SendResult
from bot.db import begin_immediate
from bot.delivery.deliverer import deliver
from bot.delivery.inline import Every, claim_batch
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox

from .support import enqueue_templates, row


def claimed_long_ago(rt: Runtime, worker: str) -> list[outbox.Claimed]:
    """Claims every due row for ``worker``, as if ten minutes ago: longer than the sending lease."""
    with rt.session() as db:
        begin_immediate(db)
        claims = outbox.claim(db, worker, 50)
        long_ago = utcnow() - timedelta(minutes=10)
        ids = [claimed.id for claimed in claims]
        db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_at=long_ago))
    return [dataclasses.replace(claimed, claimed_at=long_ago) for claimed in claims]


def ids(claims: list[outbox.Claimed]) -> list[int]:
    return [claimed.id for claimed in claims]


class Peeking:
    """Another worker looks for stale rows while this send is on its way to WeChat."""

    name = "oa_template"

    def __init__(self, rt: Runtime, inner: Channel) -> None:
        self.rt, self.inner, self.taken_over = rt, inner, list[int]()

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        self.taken_over += ids(claim_batch(self.rt, "other-worker"))
        return self.inner.send(recipient, payload)


def test_the_lease_runs_from_the_send_so_a_row_in_flight_is_not_taken_over(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    [row_id] = enqueue_templates(wrt, state, 1)
    [claimed] = claimed_long_ago(wrt, "slow-worker")
    assert claimed.id == row_id
    peeking = Peeking(wrt, channels["oa_template"])
    assert deliver(wrt, claimed, {"oa_template": peeking}, RateGate()) == OutboxStatus.SENT
    assert peeking.taken_over == []
    assert len(state.delivered("template")) == 1


def test_a_row_taken_over_after_the_lease_is_sent_by_its_new_holder_only(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    first, second = enqueue_templates(wrt, state, 2)
    slow = claimed_long_ago(wrt, "slow-worker")
    assert ids(slow) == [first, second]
    # The slow worker is still busy with `first` when another worker reclaims what it had not sent yet.
    other = claim_batch(wrt, "other-worker")
    assert ids(other) == [first, second]
    assert deliver(wrt, slow[1], channels, RateGate()) is None
    assert row(wrt, second).claimed_by == "other-worker"
    assert deliver(wrt, other[1], channels, RateGate()) == OutboxStatus.SENT
    assert len(state.delivered("template")) == 1


def test_a_claim_reclaimed_by_the_sweep_is_neither_sent_nor_postponed_by_its_old_holder(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    _, second = enqueue_templates(wrt, state, 2)
    slow = claimed_long_ago(wrt, "slow-worker")
    with wrt.session() as db:
        assert outbox.reclaim_stale(db) == 2
    assert deliver(wrt, slow[0], channels, RateGate()) is None
    # A rate limit that says "wait" does not put back a row that is no longer this worker's.
    other = claim_batch(wrt, "other-worker")
    exhausted = RateGate(limits={"oa_template": "1/hour"})
    assert exhausted.try_acquire("oa_template") == 0.0
    assert deliver(wrt, slow[1], channels, exhausted) is None
    assert (row(wrt, second).status, row(wrt, second).claimed_by) == (OutboxStatus.SENDING, "other-worker")
    assert state.delivered("template") == []
    assert [deliver(wrt, claimed, channels, RateGate()) for claimed in other] == [OutboxStatus.SENT] * 2
    assert len(state.delivered("template")) == 2


def test_a_young_claim_is_sent_under_its_first_lease(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState
) -> None:
    [row_id] = enqueue_templates(wrt, state, 1)
    [claimed] = claim_batch(wrt, "worker")
    assert deliver(wrt, claimed, channels, RateGate()) == OutboxStatus.SENT
    assert row(wrt, row_id).claimed_at == claimed.claimed_at  # not renewed: its lease had hardly begun
    assert len(state.delivered("template")) == 1


def test_a_process_looks_for_dead_workers_rows_once_per_interval_not_on_every_claim() -> None:
    hourly, always = Every(3600), Every(0)
    assert [hourly() for _ in range(3)] == [True, False, False]
    assert [always() for _ in range(3)] == [True, True, True]
