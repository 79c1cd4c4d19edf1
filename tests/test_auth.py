"""Sign-in, lockout, revocable sessions, CSRF, roles and jurisdictions in the panel."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Role
from bot.services import jurisdictions, staff
from bot.services.audit import SYSTEM
from tests.factories import login, make_resident, make_station, make_user


def test_login_dashboard_logout(db: Session, client: FlaskClient) -> None:
    user = make_user(db, Role.ADMIN)
    db.commit()
    response = login(client, user.username)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page and "在册外出人员" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    assert client.post("/logout", data={"csrf_token": token[1]}).status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_session_cookie_is_dead_after_logout(db: Session, app: Flask) -> None:
    user = make_user(db)
    db.commit()
    first = app.test_client()
    login(first, user.username)
    stolen = first.get_cookie("lanxi_session")
    assert stolen is not None
    page = first.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    first.post("/logout", data={"csrf_token": token[1]})  # type: ignore[index]
    replay = app.test_client()
    replay.set_cookie("lanxi_session", stolen.value)
    assert replay.get("/").status_code == 302


def test_wrong_password_is_generic_and_locks_out(db: Session, client: FlaskClient) -> None:
    user = make_user(db)
    db.commit()
    for _ in range(5):
        response = login(client, user.username, "wrong password!")
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)
    unknown = login(client, "nobody-here", "whatever12345")
    assert unknown.get_data(as_text=True).count("用户名或密码错误") == 1
    locked = login(client, user.username)  # the right password, but locked now
    assert locked.status_code == 401
    reasons = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "auth.login_failed"))
    assert {"reason": "locked"} in list(reasons)


def test_login_without_csrf_token_is_refused(db: Session, client: FlaskClient) -> None:
    user = make_user(db)
    db.commit()
    response = client.post("/login", data={"username": user.username, "password": "x"})
    assert response.status_code == 400


def test_role_change_and_disabling_revoke_sessions(db: Session, app: Flask) -> None:
    user = make_user(db, Role.DATA_CLERK)
    db.commit()
    browser = app.test_client()
    login(browser, user.username)
    assert browser.get("/residents/").status_code == 200
    staff.set_role(db, SYSTEM, user, Role.PROPAGANDA, jurisdictions.county(db))
    db.commit()
    assert browser.get("/residents/").status_code == 302  # signed out
    login(browser, user.username)
    assert browser.get("/residents/").status_code == 403  # propaganda staff see no residents
    staff.set_active(db, SYSTEM, user, False)
    db.commit()
    assert browser.get("/").status_code == 302


def test_station_officer_sees_only_their_station(db: Session, client: FlaskClient) -> None:
    mine, other = make_station(db), make_station(db)
    officer = make_user(db, Role.STATION_OFFICER, jurisdiction=mine)
    own, foreign = make_resident(db, mine, name="本所居民"), make_resident(db, other, name="外所居民")
    db.commit()
    login(client, officer.username)
    listing = client.get("/residents/").get_data(as_text=True)
    assert "本所居民" in listing and "外所居民" not in listing
    assert client.get(f"/residents/{own.id}").status_code == 200
    assert client.get(f"/residents/{foreign.id}").status_code == 404
    assert client.get("/residents/999999").status_code == 404


def test_resident_page_masks_identifiers_and_audits_the_view(db: Session, client: FlaskClient) -> None:
    admin = make_user(db)
    person = make_resident(db, phone="13812345678")
    db.commit()
    login(client, admin.username)
    page = client.get(f"/residents/{person.id}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    assert person.id_number not in page  # type: ignore[operator]
    views = db.scalars(select(AuditEvent).where(AuditEvent.action == "resident.view"))
    assert [e.record_id for e in views] == [str(person.id)]


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HttpOnly" in (response.headers.get("Set-Cookie") or "HttpOnly")


def test_error_pages_are_chinese(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
