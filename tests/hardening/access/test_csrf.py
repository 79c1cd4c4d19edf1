"""Every state-changing panel request needs a valid CSRF token, and no GET changes state."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Base, Role
from tests.hardening.access.support import STATE_CHANGING, World, protected_routes, url_for_rule
from tests.panel.support import signed_in

# Exempt on purpose: WeChat signs its callbacks, the API takes bearer tokens only (never cookies),
# and the public advisory page's share counter is a beacon with no session behind it.
CSRF_EXEMPT_BLUEPRINTS = frozenset({"webhook", "api"})
CSRF_EXEMPT_ENDPOINTS = frozenset({"advisory_page.share"})
# Tables a read may touch: its audit trail (reads of personal data are audited) and the
# session's last-seen time.
READ_WRITES = frozenset({AuditEvent.__tablename__})


def _counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def _audit_actions(db: Session) -> Counter[str]:
    return Counter(db.scalars(select(AuditEvent.action)))


def _state_changing_rules(app: Flask) -> list[tuple[str, str]]:
    """(method, endpoint) of every state-changing route that must check the CSRF token."""
    return sorted(
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & STATE_CHANGING
        if rule.endpoint.split(".")[0] not in CSRF_EXEMPT_BLUEPRINTS
        and rule.endpoint not in CSRF_EXEMPT_ENDPOINTS
    )


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_state_changing_requests_without_a_valid_token_are_refused(
    token: str | None, db: Session, app: Flask, client: FlaskClient, world: World
) -> None:
    signed_in(client, db, Role.ADMIN)
    before = _counts(db)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    checked = _state_changing_rules(app)
    assert len(checked) > 40
    wrong = []
    for method, endpoint in checked:
        url = url_for_rule(rules[endpoint], world.own)
        data = {"csrf_token": token} if token else {}
        response = client.open(url, method=method, data=data)
        if response.status_code != 400:
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert _counts(db) == before


def test_the_public_forms_need_a_token_too(client: FlaskClient) -> None:
    for path in ("/login", "/report", "/h5/checkin"):
        assert client.post(path, data={"username": "admin", "password": "x" * 12}).status_code == 400, path


def test_no_get_changes_state(db: Session, app: Flask, client: FlaskClient, world: World) -> None:
    signed_in(client, db, Role.ADMIN)
    before, actions_before = _counts(db), _audit_actions(db)
    statuses = Counter[int]()
    for route in protected_routes(app):
        if "GET" in route.methods and not route.is_api:
            statuses[client.get(url_for_rule(route.rule, world.own)).status_code] += 1
    assert statuses[200] > 30, statuses  # the pages really rendered
    after = _counts(db)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert set(changed) <= READ_WRITES, changed
    new_actions = _audit_actions(db) - actions_before
    assert all(_is_a_read(action) for action in new_actions), new_actions


def _is_a_read(action: str) -> bool:
    """Reads of personal data or tips are audited as ``<area>.view`` (media: ``tips.media``)."""
    return action.endswith(".view") or action == "tips.media"
