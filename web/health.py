"""/healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.db import runtime

bp = Blueprint("health", __name__)

REQUESTS = Counter("lanxi_http_requests_total", "HTTP requests", ["endpoint", "status"])
LATENCY = Histogram("lanxi_http_request_seconds", "HTTP request latency", ["endpoint"])


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with runtime().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/metrics")
def metrics() -> ResponseReturnValue:
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """Under gunicorn with several workers (PROMETHEUS_MULTIPROC_DIR set, see deploy/gunicorn.conf.py)
    every worker writes its samples to that directory, and any worker answers with the sum of all."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _start_timer() -> None:
    g.started = time.perf_counter()


def _observe(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, str(response.status_code)).inc()
    if "started" in g:
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
