"""The rate gate shared by a process's delivery threads."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from bot.delivery.rate import RateGate


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms, so a race shows within a second or two."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_threads_hitting_the_in_memory_gate_at_once_all_get_an_answer() -> None:
    gate = RateGate(limits={"oa_template": "1000000/minute"})
    errors: list[Exception] = []

    def hit() -> None:
        for _ in range(1_500):
            try:
                assert gate.try_acquire("oa_template") == 0.0
            except Exception as exc:  # what a delivery thread would have met
                errors.append(exc)
            time.sleep(0.0005)  # past the storage's 10 ms expiry timer now and then

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
