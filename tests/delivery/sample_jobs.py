"""Job functions for the scheduler tests: JobSpec targets name them as "tests.delivery.sample_jobs:NAME"."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bot.clock import local_today
from bot.runtime import Runtime
from bot.services import outbox

from .support import openid, template

GREETED = openid(7)


def greet(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Idempotent for its day, like every real job: the day's message has a key naming that day."""
    day = local_today(rt.settings.tz, now)
    with rt.session() as db:
        enqueued = outbox.enqueue(
            db, key=f"test-greet:{day}", channel="oa_template", recipient=GREETED, payload=template(7)
        )
    if enqueued.created:
        rt.notify_outbox()
    return {"enqueued": int(enqueued.created)}


def nothing(rt: Runtime, now: datetime) -> dict[str, Any]:
    return {}


def slow(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Longer than the test's scheduler lease (1.5 s): the leader must keep renewing while it runs."""
    time.sleep(2.5)
    return {"slept": 2.5}
