"""Send outcomes committed by a thread of their own, while the delivery threads make their next sends.

Recording an outcome in the delivery thread made it wait for a commit (a WAL flush, up to 5 ms on
PostgreSQL here, a tenth of a 50 ms WeChat call) before each send. Here one recorder thread per
process writes the outcomes, those that arrive during one commit together in the next, and each
delivery thread hands over an outcome only once its previous one is committed (``OneBehind``): the
commit of one send overlaps the next send, and a thread has at most two sent rows not yet recorded,
the one before and the one it just sent.

A row stays ``sending`` until its outcome is committed. If the process dies first, the row is
reclaimed after the sending lease and sent again, as if the process had died during the send; so a
row is still sent twice only when its worker dies with it in flight. While the database refuses
writes the recorder retries, and every delivery thread stops at its next outcome until it is back.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from bot.delivery.deliverer import Outcome, record_outcomes
from bot.runtime import Runtime

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
POLL_SECONDS = 0.1


class NotRecorded(Exception):
    """The recorder stopped before this outcome could be written: its row is sent again after the lease."""


class OutcomeRecorder:
    """One per process: ``submit`` outcomes, each Future is done once its outcome is committed."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._pending: queue.SimpleQueue[tuple[Outcome, Future[None]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-recorder", daemon=True)

    def submit(self, outcome: Outcome) -> Future[None]:
        done: Future[None] = Future()
        self._pending.put((outcome, done))
        return done

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Writes what was submitted so far; gives up on it if the database refuses writes meanwhile."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._pending.empty()):
            try:
                batch = [self._pending.get(timeout=POLL_SECONDS)]
            except queue.Empty:
                continue
            while not self._pending.empty():
                batch.append(self._pending.get_nowait())
            self._write(batch)

    def _write(self, batch: list[tuple[Outcome, Future[None]]]) -> None:
        while True:
            try:
                record_outcomes(self._rt, [outcome for outcome, _ in batch])
            except Exception:  # the database may be away: keep the outcomes and try again
                log.exception("delivery: recording %d send outcomes failed; retrying", len(batch))
                if self._stop.wait(RETRY_SECONDS):
                    log.error("delivery: stopping with %d send outcomes not recorded", len(batch))
                    for _, done in batch:
                        done.set_exception(NotRecorded())
                    return
                continue
            for _, done in batch:
                done.set_result(None)
            return


class OneBehind:
    """A delivery thread's ``deliverer.Recorder``: hands an outcome to the ``OutcomeRecorder`` once the
    thread's previous outcome is committed (waiting for it if need be)."""

    def __init__(self, recorder: OutcomeRecorder) -> None:
        self._recorder = recorder
        self._previous: Future[None] | None = None

    def __call__(self, outcome: Outcome) -> None:
        self.wait()
        self._previous = self._recorder.submit(outcome)

    def wait(self) -> None:
        """Until this thread's last outcome is committed (raises NotRecorded if it never will be)."""
        previous, self._previous = self._previous, None
        if previous is not None:
            previous.result()
