"""The Celery path against the real Redis: workers deliver the outbox exactly once, and a killed worker
loses nothing (its rows are reclaimed after the sending lease and the sweep publishes again)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from bot.config import replace
from bot.delivery import celery_backend
from bot.delivery.celery_backend import create_celery, publisher
from bot.delivery.sweep import outbox_sweep
from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxStatus, utcnow
from bot.runtime import Runtime

from .support import (
    all_sent,
    duplicates,
    enqueue_templates,
    kill,
    log_tail,
    openid,
    running,
    status_counts,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.redis
WORKER_SCRIPT = Path(__file__).with_name("celery_worker.py")


@pytest.fixture
def queue(redis_url: str, run_id: str) -> Iterator[str]:
    """This test's own queue; afterwards every key naming the run (queue, bindings, rate buckets) and
    every unacknowledged message of the queue are removed."""
    name = f"lanxi.test.{run_id}"
    yield name
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    for key in client.scan_iter(f"*{run_id}*"):
        client.delete(key)
    unacked: dict[str, str] = client.hgetall("unacked")  # type: ignore[assignment]
    for tag, message in unacked.items():
        if name in message:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


def celery_runtime(rt: Runtime, broker_url: str, **delivery: object) -> Runtime:
    settings = replace(rt.settings, delivery={"backend": "celery", "broker_url": broker_url, **delivery})
    return Runtime(settings, rt.engine, rt.sessions)


@pytest.fixture
def fresh_components(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An in-process worker builds its runtime on its first task; build it anew for this test's database."""
    built: dict[str, celery_backend._Worker] = {}
    monkeypatch.setattr(celery_backend, "_worker", built)
    yield
    for worker in built.values():
        worker.rt.engine.dispose()


@pytest.mark.usefixtures("fresh_components")
def test_an_in_process_celery_worker_delivers_every_row_exactly_once(
    live_rt: Runtime, state: FakeWeChatState, redis_url: str, queue: str, run_id: str
) -> None:
    rt = celery_runtime(live_rt, redis_url)
    app = create_celery(rt.settings, queue)
    rt.outbox_listeners.append(publisher(app))
    state.set_latency("message/template/send", 10)
    enqueue_templates(rt, state, 60, rate_key=f"oa_template:{run_id}")
    with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30):
        for _ in range(3):  # three publishes: three tasks fan out over the rows
            rt.notify_outbox()
        wait_until(all_sent(rt, 60), what="60 rows sent by Celery")
    assert Counter(d.target for d in state.delivered("template")) == {openid(n): 1 for n in range(60)}


@pytest.mark.slow
# Celery workers in several processes are a PostgreSQL deployment; SQLite's crash test is the inline one.
@pytest.mark.parametrize("committing_rt", ["postgresql"], indirect=True)
def test_a_killed_celery_worker_loses_nothing_and_sends_at_most_its_rows_in_flight_twice(
    live_rt: Runtime, state: FakeWeChatState, redis_url: str, queue: str, run_id: str, tmp_path: Path
) -> None:
    total, lease = 120, 2
    rt = celery_runtime(live_rt, redis_url, sending_lease_seconds=lease)
    config = write_config(
        tmp_path / "config.toml",
        rt.settings.database.url,
        rt.settings.wechat.api_base_url,
        backend="celery",
        broker_url=redis_url,
        concurrency=2,
        sending_lease_seconds=lease,
    )
    state.set_latency("message/template/send", 20)
    enqueue_templates(rt, state, total, rate_key=f"oa_template:{run_id}")
    app = create_celery(rt.settings, queue)
    rt.outbox_listeners.append(publisher(app))
    command = [sys.executable, str(WORKER_SCRIPT), str(config), queue]
    with running(command, tmp_path, "victim") as victim, running(command, tmp_path, "survivor"):
        for _ in range(4):
            rt.notify_outbox()
        wait_until(lambda: len(state.delivered("template")) >= 30, 60, lambda: log_tail(tmp_path, "victim"))
        kill(victim)
        at_kill = status_counts(rt)
        in_flight = at_kill[OutboxStatus.SENDING]
        assert in_flight > 0 and at_kill[OutboxStatus.SENT] < total, at_kill
        # What `lanxi scheduler` does every 15 s: reclaim rows past the lease and publish again.
        deadline = time.monotonic() + 60
        while not all_sent(rt, total)():
            assert time.monotonic() < deadline, (
                f"stuck at {status_counts(rt)}: {log_tail(tmp_path, 'survivor')}"
            )
            outbox_sweep(rt, utcnow())
            time.sleep(0.25)
    assert {d.target for d in state.delivered("template")} == {openid(n) for n in range(total)}
    assert duplicates(state, "template") <= in_flight
