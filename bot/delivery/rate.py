"""Per-endpoint rate limits (moving window) shared by every delivery thread or worker.

In-process memory for the inline backend; Redis when several Celery workers must share
one budget (a WeCom robot allows 20 messages a minute per key, whoever sends them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

# Budgets by rate-key prefix (the outbox row's rate_key, e.g. "robot:<hash of key>").
DEFAULT_LIMITS: Mapping[str, str] = {
    "robot": "20/minute",  # WeCom group robot, per webhook key
    "oa_custom": "1200/minute",
    "oa_template": "1200/minute",
    "oa_mass": "60/minute",
    "wecom_app": "1200/minute",
    "wecom_appchat": "600/minute",
    "wecom_customer_group": "60/minute",
}
FALLBACK_LIMIT = "600/minute"


class RateGate:
    def __init__(
        self, storage_uri: str = "memory://", limits: Mapping[str, str] | None = None, **storage_options: Any
    ) -> None:
        """``storage_options`` go to the `limits` storage (e.g. Redis time-outs, wrap_exceptions)."""
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **storage_options))
        self._items: dict[str, RateLimitItem] = {
            prefix: parse(spec) for prefix, spec in {**DEFAULT_LIMITS, **(limits or {})}.items()
        }
        self._fallback = parse(FALLBACK_LIMIT)
        # limits' in-memory storage is not safe for concurrent hits: two threads may start its expiry
        # timer twice (RuntimeError, or threading's bookkeeping corrupted), failing a delivery batch.
        self._lock = threading.Lock()

    def item_for(self, rate_key: str) -> RateLimitItem:
        return self._items.get(rate_key.split(":", 1)[0], self._fallback)

    def try_acquire(self, rate_key: str) -> float:
        """0.0 when a send may go now (and it is counted); else seconds until one may."""
        item = self.item_for(rate_key)
        with self._lock:
            if self._limiter.hit(item, rate_key):
                return 0.0
            stats = self._limiter.get_window_stats(item, rate_key)
        return max(stats.reset_time - time.time(), 0.05)
