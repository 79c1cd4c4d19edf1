"""The inline backend: delivery threads inside `lanxi serve` (embedded mode)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from datetime import timedelta

from bot.channels.base import Channel
from bot.db import begin_immediate
from bot.delivery.deliverer import deliver
from bot.delivery.rate import RateGate
from bot.delivery.recorder import NotRecorded, OneBehind, OutcomeRecorder
from bot.runtime import Runtime
from bot.services import outbox

log = logging.getLogger(__name__)
BATCH = 20
IDLE_POLL_SECONDS = 1.0
# A process's claims look for rows of dead workers once per this part of the sending lease (the
# outbox sweep job does too): that UPDATE reads every row left 'sending' since the last vacuum.
RECLAIM_EVERY = 0.1


class Every:
    """True on the first call, then at most once per ``seconds`` whichever thread asks."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._next = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                return False
            self._next = now + self._seconds
            return True


def reclaim_schedule(rt: Runtime) -> Every:
    return Every(rt.settings.delivery.sending_lease_seconds * RECLAIM_EVERY)


def worker_name(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"


def claim_batch(
    rt: Runtime, worker: str, limit: int = BATCH, *, reclaim: bool = True
) -> list[outbox.Claimed]:
    """Claim due rows for ``worker``, first putting rows of dead workers back (``reclaim``)."""
    with rt.session() as db:
        begin_immediate(db)
        if reclaim:
            outbox.reclaim_stale(db, lease=timedelta(seconds=rt.settings.delivery.sending_lease_seconds))
        return outbox.claim(db, worker, limit)


def drain(rt: Runtime, channels: Mapping[str, Channel], gate: RateGate, worker: str = "drain") -> int:
    """Deliver everything due now, in this thread; returns how many rows were handled (tests, CLI)."""
    handled = 0
    while batch := claim_batch(rt, worker):
        for claimed in batch:
            deliver(rt, claimed, channels, gate)
            handled += 1
    return handled


class InlineDelivery:
    """N threads claiming and delivering due rows, their outcomes committed by an ``OutcomeRecorder``
    while they send the next; ``wake()`` after a commit skips the poll delay."""

    def __init__(self, rt: Runtime, channels: Mapping[str, Channel], gate: RateGate, threads: int) -> None:
        self._rt, self._channels, self._gate = rt, channels, gate
        self._recorder = OutcomeRecorder(rt)
        self._reclaim_due = reclaim_schedule(rt)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(i,), name=f"delivery-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> None:
        self._recorder.start()
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._recorder.stop(timeout)

    def _loop(self, index: int) -> None:
        worker = worker_name(f":{index}")
        record = OneBehind(self._recorder)
        while not self._stop.is_set():
            try:
                batch = claim_batch(self._rt, worker, reclaim=self._reclaim_due())
                for claimed in batch:
                    deliver(self._rt, claimed, self._channels, self._gate, record)
            except Exception:  # the database may be away: log, wait, go on
                log.exception("delivery thread %s: claim or deliver failed", worker)
                batch = []
            if not batch:
                self._wake.wait(IDLE_POLL_SECONDS)
                self._wake.clear()
        with contextlib.suppress(NotRecorded):  # the recorder said so in the log
            record.wait()
