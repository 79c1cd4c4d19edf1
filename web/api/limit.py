"""Each API token's request budget, ``[web] api_rate_limit`` (a moving window, the `limits` library).

Counted with the delivery's rate gate: in Redis (``[delivery] broker_url``) when the Celery backend
is configured, the scale-out shape where several gunicorn workers must share one count; in this
process's memory otherwise (one `lanxi serve` process). An unreachable Redis lets requests through:
the counters are disposable, the API is not.
"""

from __future__ import annotations

import logging
import math

from flask import Flask, current_app
from limits.errors import StorageError

from bot.config import Settings
from bot.delivery.rate import RateGate
from bot.models import ApiToken
from web.api.errors import ApiError
from web.db import runtime

log = logging.getLogger(__name__)
RATE_PREFIX = "api"
_EXTENSION = "api_rate_gate"
_REDIS_TIMEOUT_SECONDS = 1.0


def build_gate(settings: Settings) -> RateGate:
    budgets = {RATE_PREFIX: settings.web.api_rate_limit}
    if settings.delivery.backend != "celery":
        return RateGate("memory://", budgets)
    return RateGate(
        settings.delivery.broker_url,
        budgets,
        wrap_exceptions=True,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
    )


def init_app(app: Flask) -> None:
    with app.app_context():
        app.extensions[_EXTENSION] = build_gate(runtime().settings)


def spend(token: ApiToken) -> None:
    """Count one request of ``token``; a 429 with Retry-After when its budget is spent."""
    gate: RateGate = current_app.extensions[_EXTENSION]
    try:  # keyed by the token's hash: unique across databases sharing one Redis, and never the secret
        wait = gate.try_acquire(f"{RATE_PREFIX}:{token.token_hash}")
    except StorageError:
        log.warning("API rate limit not counted: its storage did not answer", exc_info=True)
        return
    if wait:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429, "rate_limited", f"请求过于频繁，请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)}
        )
