"""/healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
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
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


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
