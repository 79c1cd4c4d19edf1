from __future__ import annotations

from flask.testing import FlaskClient

from bot.config import replace
from bot.runtime import Runtime
from web import create_app


def test_healthz_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_down(rt: Runtime) -> None:
    # A port where nothing listens: the check must fail fast, not hang.
    down = replace(rt.settings, database={"url": "postgresql://postgres@127.0.0.1:1/none"})
    app = create_app(down)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_metrics_exposes_prometheus_text(client: FlaskClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert "lanxi_http_requests_total" in body
    assert 'endpoint="health.healthz"' in body
