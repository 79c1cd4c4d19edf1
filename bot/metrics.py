"""Prometheus metrics of the bot side (the panel's request metrics live in web/health.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CALLBACKS = Counter(
    "lanxi_callbacks_total", "WeChat callbacks by endpoint and result", ["endpoint", "result"]
)
CALLBACK_SECONDS = Histogram("lanxi_callback_seconds", "Time to answer a WeChat callback", ["endpoint"])
DELIVERIES = Counter(
    "lanxi_outbox_deliveries_total", "Outbox delivery attempts by channel and result", ["channel", "result"]
)
