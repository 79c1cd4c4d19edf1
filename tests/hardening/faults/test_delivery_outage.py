"""Delivery while the database refuses writes: each thread stops after at most two sends it could not
record, the recorder keeps their outcomes and writes them when the database is back, nothing goes twice."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxStatus
from bot.runtime import Runtime
from tests.delivery.support import all_sent, delivering, enqueue_templates, status_counts, wait_until

from .outages import _admin, read_only

PROMPTS = 400
THREADS = 4


@contextmanager
def writes_refused(rt: Runtime) -> Iterator[None]:
    """``outages.read_only``, except that on PostgreSQL the pool is not disposed of while delivery threads
    hold connections (that would leave those open in the old pool): its sessions are ended instead, and
    the pool's pre-ping replaces them with read-only ones."""
    if rt.engine.dialect.name != "postgresql":
        with read_only(rt):
            yield
        return
    name = str(make_url(rt.settings.database.url).database)
    _admin("ALTER DATABASE {db} SET default_transaction_read_only = on", name)
    try:
        yield
    finally:
        _admin("ALTER DATABASE {db} RESET default_transaction_read_only", name)


@pytest.mark.slow
@pytest.mark.usefixtures("fast_retries")
def test_sends_pause_while_the_database_is_read_only_and_their_outcomes_are_written_afterwards(
    live_rt: Runtime, state: FakeWeChatState, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue_templates(live_rt, state, PROMPTS)
    state.set_latency("*", 20)  # sends in flight when the outage starts
    caplog.set_level(logging.ERROR, logger="bot.delivery")
    with delivering(live_rt, threads=THREADS, gate=RateGate(limits={"oa_template": "1000000/minute"})):
        wait_until(lambda: len(state.delivered("template")) >= 60, what="the first sends")
        with writes_refused(live_rt):
            time.sleep(1.5)  # long enough for every thread to reach an outcome it cannot hand over
            went = len(state.delivered("template"))
            recorded = status_counts(live_rt)[OutboxStatus.SENT]
            time.sleep(0.5)
            assert len(state.delivered("template")) == went, "sends went on without their outcomes recorded"
        assert 0 < went - recorded <= 2 * THREADS
        wait_until(all_sent(live_rt, PROMPTS), timeout=60, what=lambda: f"all sent: {status_counts(live_rt)}")
    assert any("recording" in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records)
    received = Counter(d.target for d in state.delivered("template"))
    assert len(received) == PROMPTS and set(received.values()) == {1}
