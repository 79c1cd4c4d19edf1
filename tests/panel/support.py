"""Helpers for the panel tests: sign in with a role and a jurisdiction, read CSRF tokens, open workbooks."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date
from typing import Any

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.models import AuditEvent, Jurisdiction, Role, StaffUser
from bot.runtime import Runtime
from bot.services import jurisdictions, staff


def today(rt: Runtime) -> date:
    return local_today(rt.settings.tz)


_seq = itertools.count(1)


def staff_member(db: Session, role: Role, where: Jurisdiction | None = None, username: str = "") -> StaffUser:
    """A staff account without a usable password (no Argon2 hashing: about half a second saved)."""
    user = StaffUser(
        username=username or f"panel{next(_seq)}",
        role=role,
        jurisdiction=where or jurisdictions.county(db),
        password_hash="unusable",
    )
    db.add(user)
    db.flush()
    return user


def signed_in(client: FlaskClient, db: Session, role: Role, where: Jurisdiction | None = None) -> StaffUser:
    """A staff member with a live server-side session in ``client``'s cookie.

    Signing in through the form costs Argon2 hashing; the sign-in itself is tested in
    tests/test_auth.py and the browser tests, so these tests open the session directly.
    """
    user = staff_member(db, role, where)
    token = staff.open_session(db, user, ip="127.0.0.1", user_agent="tests")
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return user


def csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    assert token, f"no CSRF token on {url}"
    return token[1]


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return rows


def audit_events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
