"""Sessions and headers, beyond tests/test_auth.py: timeouts on a moving clock, lockout expiry,
address throttling, revocation by password change and of API tokens, cookie flags, headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.config import replace
from bot.models import LoginAttempt, Role, utcnow
from bot.runtime import Runtime
from bot.services import staff
from bot.services.audit import SYSTEM
from tests.factories import login, make_user
from tests.hardening.access.support import api_token
from tests.panel.support import signed_in

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture()
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _signed_in_at(client: FlaskClient, path: str = "/") -> bool:
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def test_an_idle_session_expires_and_activity_keeps_it_alive(
    clock: time_machine.Traveller, db: Session, client: FlaskClient
) -> None:
    signed_in(client, db, Role.ADMIN)
    clock.shift(timedelta(minutes=25))
    assert _signed_in_at(client)  # touched: the idle clock restarts
    clock.shift(timedelta(minutes=25))
    assert _signed_in_at(client)
    clock.shift(timedelta(minutes=31))
    assert not _signed_in_at(client)
    clock.shift(timedelta(minutes=-31))  # back in time: a revoked session stays revoked
    assert not _signed_in_at(client)


def test_a_busy_session_still_ends_at_the_absolute_limit(
    clock: time_machine.Traveller, db: Session, client: FlaskClient
) -> None:
    signed_in(client, db, Role.ADMIN)
    for _ in range(28):  # 11 h 40 min of steady work
        clock.shift(timedelta(minutes=25))
        assert _signed_in_at(client)
    clock.shift(timedelta(minutes=25))  # 12 h 5 min after sign-in
    assert not _signed_in_at(client)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_lockout_ends_after_its_window(
    clock: time_machine.Traveller, db: Session, client: FlaskClient
) -> None:
    user = make_user(db)
    db.add_all(
        LoginAttempt(username=user.username, ip="10.1.1.1", succeeded=False, at=utcnow()) for _ in range(5)
    )
    db.commit()
    policy = staff.LoginPolicy()
    assert staff.is_locked(db, user.username, "127.0.0.1", policy, utcnow())
    assert login(client, user.username).status_code == 401  # the right password, still locked
    clock.shift(policy.lockout + timedelta(seconds=1))
    assert not staff.is_locked(db, user.username, "127.0.0.1", policy, utcnow())
    assert login(client, user.username).status_code == 302


def test_one_address_failing_across_many_usernames_is_throttled(db: Session) -> None:
    now = utcnow()
    policy = staff.LoginPolicy()
    db.add_all(
        LoginAttempt(username=f"guess{n}", ip="203.0.113.9", succeeded=False, at=now - timedelta(seconds=n))
        for n in range(staff.IP_FAILURE_LIMIT)
    )
    db.flush()
    assert staff.is_locked(db, "a-fresh-name", "203.0.113.9", policy, now)
    assert not staff.is_locked(db, "a-fresh-name", "203.0.113.10", policy, now)
    assert not staff.is_locked(db, "a-fresh-name", "203.0.113.9", policy, now + policy.lockout)


def test_a_password_change_signs_out_every_session(db: Session, app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    user = signed_in(first, db, Role.DATA_CLERK)
    token = staff.open_session(db, user, ip="127.0.0.1", user_agent="second")
    db.commit()
    with second.session_transaction() as session:
        session["_user_id"] = token
    assert _signed_in_at(first) and _signed_in_at(second)
    staff.set_password(db, SYSTEM, user, "a brand new passphrase")
    db.commit()
    assert not _signed_in_at(first) and not _signed_in_at(second)


def test_a_disabled_account_s_api_token_stops_working(db: Session, client: FlaskClient) -> None:
    user = signed_in(client, db, Role.LEADER)
    headers = api_token(db, user)
    assert client.get("/api/v1/stats", headers=headers).status_code == 200
    staff.set_active(db, SYSTEM, user, False)
    db.commit()
    assert client.get("/api/v1/stats", headers=headers).status_code == 401
    # A session cookie is no API credential, even for a live account.
    other = signed_in(client, db, Role.ADMIN)
    assert other.active and client.get("/api/v1/stats").status_code == 401


def _cookie_header(client: FlaskClient) -> str:
    response = client.get("/login")  # the CSRF token goes into the session: the cookie is set
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lanxi_session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def test_session_cookie_flags_over_http(client: FlaskClient) -> None:
    cookie = _cookie_header(client)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain-HTTP demo: a Secure cookie would never come back


def test_session_cookie_is_secure_behind_https(rt: Runtime) -> None:
    from web import create_app

    settings = replace(rt.settings, web={"public_base_url": "https://lanxi.example.gov.cn"})
    app = create_app(runtime=Runtime(settings, rt.engine, rt.sessions))
    app.config.update(TESTING=True)
    cookie = _cookie_header(app.test_client())
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "path", ["/login", "/", "/no-such-page", "/healthz", "/api/v1/stats", "/report", "/static/css/panel.css"]
)
def test_security_headers_on_every_kind_of_answer(path: str, client: FlaskClient) -> None:
    response = client.get(path)
    response.close()  # a static file answers with an open file
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored or harmful
    secure = client.get(path, base_url="https://localhost")
    secure.close()
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
