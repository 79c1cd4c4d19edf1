"""The outbox state machine: idempotent enqueue, claims, retries with backoff, permanent failure."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.base import DeliveryError, SendResult
from bot.db import begin_immediate
from bot.delivery.deliverer import deliver
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.models import OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox


class ScriptedChannel:
    """A channel whose answers are scripted per call: a SendResult or a DeliveryError."""

    name = "scripted"

    def __init__(self, *answers: SendResult | DeliveryError) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def send(self, recipient: str, payload: Mapping[str, Any]) -> SendResult:
        with self._lock:
            self.sent.append((recipient, dict(payload)))
            answer = self.answers.pop(0) if self.answers else SendResult(msgid=f"m{len(self.sent)}")
        if isinstance(answer, DeliveryError):
            raise answer
        return answer


def queue(db: Session, key: str = "k1", channel: str = "scripted", **payload: Any) -> int:
    return outbox.enqueue(db, key=key, channel=channel, recipient="openid-1", payload=payload or {"x": 1}).id


def test_enqueue_is_idempotent_by_key(db: Session) -> None:
    first = outbox.enqueue(db, key="checkin:1:2020-02-15:prompt", channel="c", recipient="r", payload={})
    second = outbox.enqueue(
        db, key="checkin:1:2020-02-15:prompt", channel="c", recipient="r", payload={"y": 2}
    )
    assert first.created and not second.created and first.id == second.id
    rows = db.scalars(select(OutboxMessage)).all()
    assert len(rows) == 1 and rows[0].payload == {}


def test_claim_marks_sending_and_skips_future_rows(db: Session) -> None:
    due = queue(db, "a")
    outbox.enqueue(
        db, key="b", channel="c", recipient="r", payload={}, not_before=utcnow() + timedelta(hours=1)
    )
    begin_immediate(db)
    [claimed] = outbox.claim(db, "w1", 10)
    assert (claimed.id, claimed.worker, claimed.recipient, claimed.payload) == (
        due,
        "w1",
        "openid-1",
        {"x": 1},
    )
    assert outbox.claim(db, "w2", 10) == []
    assert db.get(OutboxMessage, due).status == OutboxStatus.SENDING  # type: ignore[union-attr]


def test_delivery_success_records_msgid(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
    channel = ScriptedChannel(SendResult(msgid="wx-123"))
    assert drain(rt, {"scripted": channel}, RateGate()) == 1
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.SENT and row.wechat_msgid == "wx-123"
        assert row.attempts == 1
    assert channel.sent == [("openid-1", {"x": 1})]


def test_transient_errors_retry_with_backoff_then_succeed(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
    channel = ScriptedChannel(DeliveryError("busy", errcode=-1, transient=True))
    drain(rt, {"scripted": channel}, RateGate())
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.QUEUED and row.attempts == 1
        assert row.last_errcode == -1 and row.last_error == "微信系统繁忙"
        wait = row.next_attempt_at - utcnow()
        assert timedelta(seconds=2) < wait <= timedelta(seconds=5)
        row.next_attempt_at = utcnow()  # the clock moves on
    drain(rt, {"scripted": channel}, RateGate())
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.SENT and row.attempts == 2
    assert len(channel.sent) == 2


def test_permanent_error_fails_the_row_with_a_chinese_reason(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
    drain(rt, {"scripted": ScriptedChannel(DeliveryError("x", errcode=43004))}, RateGate())
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.FAILED and row.last_error == "用户未关注公众号"


def test_gives_up_after_max_attempts(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
    busy = [DeliveryError("busy", errcode=45009, transient=True)] * outbox.MAX_ATTEMPTS
    channel = ScriptedChannel(*busy)
    for _ in range(outbox.MAX_ATTEMPTS):
        with rt.session() as db:
            row = db.get(OutboxMessage, row_id)
            assert row is not None
            row.next_attempt_at = utcnow()
        drain(rt, {"scripted": channel}, RateGate())
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS


def test_window_closed_falls_back_to_a_template_message(rt: Runtime) -> None:
    fallback = {"channel": "template", "payload": {"template_id": "t1", "data": {}}}
    with rt.session() as db:
        row_id = queue(db, msgtype="text", fallback=fallback)
    custom = ScriptedChannel(DeliveryError("closed", errcode=45015))
    template = ScriptedChannel(SendResult(msgid="tpl-1"))
    drain(rt, {"scripted": custom, "template": template}, RateGate())
    with rt.session() as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None and row.status == OutboxStatus.SENT and row.wechat_msgid == "tpl-1"
    assert template.sent == [("openid-1", {"template_id": "t1", "data": {}})]


def claimed_by_a_dead_worker(db: Session) -> outbox.Claimed:
    """The one due row, claimed ten minutes ago (longer than the sending lease) by a worker that died."""
    begin_immediate(db)
    [claimed] = outbox.claim(db, "dead-worker", 10)
    long_ago = utcnow() - timedelta(minutes=10)
    db.execute(update(OutboxMessage).where(OutboxMessage.id == claimed.id).values(claimed_at=long_ago))
    return dataclasses.replace(claimed, claimed_at=long_ago)


def test_rows_of_a_dead_worker_are_reclaimed_after_the_lease(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
        claimed_by_a_dead_worker(db)
    with rt.session() as db:
        assert db.get(OutboxMessage, row_id).status == OutboxStatus.SENDING  # type: ignore[union-attr]
    assert drain(rt, {"scripted": ScriptedChannel()}, RateGate()) == 1
    with rt.session() as db:
        assert db.get(OutboxMessage, row_id).status == OutboxStatus.SENT  # type: ignore[union-attr]


def test_rate_limit_postpones_instead_of_sending(rt: Runtime) -> None:
    gate = RateGate(limits={"robot": "2/minute"})
    with rt.session() as db:
        ids = [
            outbox.enqueue(
                db, key=f"r{i}", channel="scripted", recipient="k", payload={}, rate_key="robot:abc"
            ).id
            for i in range(3)
        ]
    channel = ScriptedChannel()
    drain(rt, {"scripted": channel}, gate)
    with rt.session() as db:
        statuses = [db.get(OutboxMessage, i).status for i in ids]  # type: ignore[union-attr]
    assert statuses.count(OutboxStatus.SENT) == 2 and statuses.count(OutboxStatus.QUEUED) == 1
    assert len(channel.sent) == 2


def test_cancel_stops_only_what_has_not_gone(rt: Runtime) -> None:
    with rt.session() as db:
        sent = queue(db, "advisory:7:group:1")
        queue(db, "advisory:7:group:2")
        queue(db, "advisory:8:group:1")
        db.get(OutboxMessage, sent).status = OutboxStatus.SENT  # type: ignore[union-attr]
        assert outbox.cancel(db, "advisory:7:") == 1


def test_deliver_skips_a_claim_that_went_back_to_the_queue(rt: Runtime) -> None:
    with rt.session() as db:
        row_id = queue(db)
        stale = claimed_by_a_dead_worker(db)
    with rt.session() as db:
        assert outbox.reclaim_stale(db) == 1
    channel = ScriptedChannel()
    assert deliver(rt, stale, {"scripted": channel}, RateGate()) is None
    assert channel.sent == []
    with rt.session() as db:
        assert db.get(OutboxMessage, row_id).status == OutboxStatus.QUEUED  # type: ignore[union-attr]
