"""The Celery backend: `lanxi worker` processes deliver the outbox, Redis is the broker.

The outbox table stays the source of truth. A task carries no message, only the instruction
"deliver what is due": it claims rows (SKIP LOCKED on PostgreSQL), sends them, and publishes
itself again while the batch came back full, so N workers fan out over a day's prompts.
Tasks are acknowledged late and rejected when their worker is lost, and rows a dead worker
held are reclaimed after the sending lease, so a killed worker loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery

from bot.config import Settings
from bot.delivery.deliverer import deliver
from bot.delivery.inline import Every, claim_batch, reclaim_schedule, worker_name
from bot.delivery.rate import RateGate
from bot.runtime import Runtime

log = logging.getLogger(__name__)
TASK = "lanxi.deliver_due"
QUEUE = "lanxi.outbox"
BATCH = 25


@dataclass
class _Worker:
    rt: Runtime
    channels: dict[str, Any]
    gate: RateGate
    reclaim_due: Every


_worker: dict[str, _Worker] = {}
_worker_lock = threading.Lock()  # a thread pool's first tasks arrive together


def create_celery(settings: Settings, queue: str = QUEUE) -> Celery:
    app = Celery("lanxi", broker=settings.delivery.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.delivery.sending_lease_seconds},
        worker_hijack_root_logger=False,
    )

    @app.task(name=TASK, bind=True, shared=False)  # this app only: its closure holds these settings
    def deliver_due(task: Any, limit: int = BATCH) -> int:
        worker = _components(settings)
        # One name per pool thread: a claim must tell this thread's rows from its siblings'.
        name = worker_name(f":celery:{threading.get_native_id()}")
        batch = claim_batch(worker.rt, name, limit, reclaim=worker.reclaim_due())
        for claimed in batch:
            deliver(worker.rt, claimed, worker.channels, worker.gate)
        if len(batch) == limit:
            task.app.send_task(TASK, kwargs={"limit": limit})
        return len(batch)

    return app


def _components(settings: Settings) -> _Worker:
    """Built once per worker process, on its first task (no import-time side effects)."""
    with _worker_lock:
        if "w" not in _worker:
            from bot.channels import build_channels

            rt = Runtime.from_settings(settings)
            gate = RateGate(settings.delivery.broker_url)
            _worker["w"] = _Worker(rt, build_channels(rt), gate, reclaim_schedule(rt))
        return _worker["w"]


def publisher(app: Celery) -> Callable[[], None]:
    """An outbox listener for processes that enqueue (web, scheduler): ask a worker to deliver."""

    def publish() -> None:
        try:
            app.send_task(TASK, kwargs={"limit": BATCH})
        except Exception:  # the broker may be away: the scheduler's sweep publishes again later
            log.warning("could not publish to the Celery broker; the outbox sweep will retry")

    return publish


def run_worker(settings: Settings, concurrency: int | None = None, queue: str = QUEUE) -> None:
    app = create_celery(settings, queue)
    app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            "--pool=threads",
            f"--concurrency={concurrency or settings.delivery.concurrency}",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ]
    )
