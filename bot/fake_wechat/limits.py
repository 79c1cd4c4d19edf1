"""WeChat's quotas and rate limits, counted against the fake's clock."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

_SHANGHAI_OFFSET = 8 * 3600  # WeChat's days and months turn over in China Standard Time (no DST)


def shanghai_day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now + _SHANGHAI_OFFSET))


def shanghai_month(now: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(now + _SHANGHAI_OFFSET))


@dataclass
class Limits:
    """Every number the fake enforces; tests and benchmarks may lower them."""

    token_ttl: float = 7200.0
    token_grace: float = 300.0  # an old token keeps working this long after a new one is fetched
    token_daily: int = 2000
    stable_force_refresh_daily: int = 20
    window_seconds: float = 48 * 3600.0
    window_messages: int = 5
    custom_text_bytes: int = 2048  # approximate: WeChat documents no exact figure
    template_daily: int = 100_000
    mass_per_follower_month: int = 4
    robot_per_minute: int = 20
    robot_text_bytes: int = 2048
    robot_markdown_bytes: int = 4096
    robot_image_bytes: int = 2 * 1024 * 1024
    wecom_text_bytes: int = 2048  # WeCom truncates app-message text beyond this
    wecom_markdown_bytes: int = 2048
    group_task_text_bytes: int = 4000
    group_task_per_sender_month: int = 4  # approximation of "4 per group per month"
    oauth_code_ttl: float = 300.0
    media_ttl: float = 3 * 86400.0
    hang_seconds: float = 30.0  # how long an injected timeout holds a request unless released


class SlidingWindow:
    """At most `limit` events per key in any `span` seconds."""

    def __init__(self, limit: Callable[[], int], span: float) -> None:
        self._limit = limit
        self._span = span
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)

    def try_acquire(self, key: str, now: float) -> bool:
        events = self._events[key]
        while events and events[0] <= now - self._span:
            events.popleft()
        if len(events) >= self._limit():
            return False
        events.append(now)
        return True


class PeriodCounter:
    """Counts per key within a calendar period (a Shanghai day or month)."""

    def __init__(self, limit: Callable[[], int], period: Callable[[float], str]) -> None:
        self._limit = limit
        self._period = period
        self._counts: defaultdict[tuple[str, str], int] = defaultdict(int)

    def used(self, key: str, now: float) -> int:
        return self._counts.get((key, self._period(now)), 0)

    def available(self, key: str, now: float) -> bool:
        return self.used(key, now) < self._limit()

    def try_take(self, key: str, now: float) -> bool:
        if not self.available(key, now):
            return False
        self._counts[(key, self._period(now))] += 1
        return True
