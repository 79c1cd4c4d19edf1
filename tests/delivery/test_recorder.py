"""The outcome recorder: outcomes of every kind written together, and written before stop() returns."""

from __future__ import annotations

from bot.channels.base import DeliveryError
from bot.delivery.deliverer import Outcome
from bot.delivery.inline import claim_batch
from bot.delivery.recorder import OneBehind, OutcomeRecorder
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxStatus, utcnow
from bot.runtime import Runtime

from .support import enqueue_templates, row


def test_sent_retried_and_failed_outcomes_are_all_written_by_stop(
    live_rt: Runtime, state: FakeWeChatState
) -> None:
    sent, busy, refused = enqueue_templates(live_rt, state, 3)
    claims = {claimed.id: claimed for claimed in claim_batch(live_rt, "w")}
    recorder = OutcomeRecorder(live_rt)
    recorder.start()
    done = [
        recorder.submit(Outcome(claims[sent], msgid="wx-1")),
        recorder.submit(Outcome(claims[busy], error=DeliveryError("busy", errcode=45009, transient=True))),
        recorder.submit(Outcome(claims[refused], error=DeliveryError("no", errcode=43004))),
    ]
    recorder.stop()
    assert all(d.done() and d.exception() is None for d in done)
    assert (row(live_rt, sent).status, row(live_rt, sent).wechat_msgid) == (OutboxStatus.SENT, "wx-1")
    retried = row(live_rt, busy)
    assert (retried.status, retried.attempts, retried.last_errcode) == (OutboxStatus.QUEUED, 1, 45009)
    assert retried.next_attempt_at > utcnow() and retried.claimed_by == ""
    assert (row(live_rt, refused).status, row(live_rt, refused).attempts) == (OutboxStatus.FAILED, 1)


def test_a_thread_hands_over_its_next_outcome_once_the_previous_one_is_committed(
    live_rt: Runtime, state: FakeWeChatState
) -> None:
    first, second = enqueue_templates(live_rt, state, 2)
    claims = claim_batch(live_rt, "w")
    recorder = OutcomeRecorder(live_rt)
    record = OneBehind(recorder)
    record(Outcome(claims[0], msgid="wx-1"))  # not started: nothing is written yet
    assert row(live_rt, first).status == OutboxStatus.SENDING
    recorder.start()
    record(Outcome(claims[1], msgid="wx-2"))  # returns once the first is committed
    assert row(live_rt, first).status == OutboxStatus.SENT
    record.wait()
    assert row(live_rt, second).status == OutboxStatus.SENT
    recorder.stop()
