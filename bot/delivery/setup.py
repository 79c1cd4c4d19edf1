"""Wire delivery into a process according to [delivery] backend."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from bot.delivery.inline import InlineDelivery
from bot.delivery.rate import RateGate
from bot.runtime import Runtime


def start_delivery(rt: Runtime, *, threads: bool = True) -> Callable[[], None]:
    """Make committed outbox rows get delivered; returns a function that stops it.

    inline: delivery threads in this process (``threads=False`` for processes that only
    enqueue, like the scheduler next to `lanxi serve`: they rely on the serving process).
    celery: publish a delivery task to the broker after each enqueue.
    """
    if rt.settings.delivery.backend == "celery":
        from bot.delivery.celery_backend import create_celery, publisher

        publish = publisher(create_celery(rt.settings))
        rt.outbox_listeners.append(publish)
        return lambda: rt.outbox_listeners.remove(publish)
    if not threads:
        return lambda: None
    from bot.channels import build_channels

    delivery = InlineDelivery(rt, build_channels(rt), RateGate(), rt.settings.delivery.concurrency)
    delivery.start()
    rt.outbox_listeners.append(delivery.wake)

    def stop() -> None:
        rt.outbox_listeners.remove(delivery.wake)
        delivery.stop()

    return stop


def run_inline_forever(rt: Runtime, concurrency: int | None = None) -> None:
    from bot.channels import build_channels

    delivery = InlineDelivery(
        rt, build_channels(rt), RateGate(), concurrency or rt.settings.delivery.concurrency
    )
    done = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    delivery.start()
    done.wait()
    delivery.stop()
