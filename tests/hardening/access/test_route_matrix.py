"""Every protected route × every role × own and another jurisdiction (and guessed ids).

The permission each route needs comes from its ``@require`` (or API declaration); the roles'
permissions from bot/services/permissions.py. A role lacking it gets 403; a role holding it
never 403 nor 500; a station account never sees another station's record (404 for its ids,
and none of its text in any page or JSON), and a guessed id answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot.models import Role
from bot.services.permissions import permissions_of
from tests.hardening.access.support import (
    STATION_PARAMS,
    Records,
    Route,
    World,
    api_token,
    protected_routes,
    url_for_rule,
)
from tests.panel.support import signed_in

# Views that call WeChat (no WeChat in tests): 502/503 is their deliberate "upstream down" answer.
NOT_FOUND = frozenset({404})
UPSTREAM = frozenset({"simulator.new_follower", "simulator.group_messages", "checkins.qr_image"})


@dataclass(frozen=True)
class Principal:
    role: Role
    at_station: bool  # signed in at station A, else at the county

    def __str__(self) -> str:
        return f"{self.role.value}@{'station' if self.at_station else 'county'}"


PRINCIPALS = [Principal(role, role == Role.STATION_OFFICER) for role in Role] + [
    Principal(Role.DATA_CLERK, True),
    Principal(Role.LEADER, True),
]


@pytest.fixture()
def no_csrf(app: Flask) -> Flask:
    # The CSRF layer is tested on its own (test_csrf.py); here requests reach the auth checks.
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _request(
    client: FlaskClient, route: Route, method: str, url: str, headers: dict[str, str]
) -> TestResponse:
    return client.open(url, method=method, headers=headers if route.is_api else {}, follow_redirects=False)


def _expected(allowed: bool, case: str, method: str, scoped: bool) -> frozenset[int] | None:
    """The statuses that alone are right here, or None where any non-error answer is."""
    if not allowed:
        return frozenset({403})
    if case == "other" and scoped:
        return NOT_FOUND  # another station's record: not disclosed, not touched
    if case == "guessed":
        # A form may be rejected (400, or back to the page) before the record is looked up.
        return NOT_FOUND if method == "GET" else frozenset({302, 400, 404})
    return None


def _problems(
    client: FlaskClient, route: Route, principal: Principal, headers: dict[str, str], world: World
) -> list[str]:
    """What is wrong with the answers to ``route`` for ``principal`` (empty: all as intended)."""
    allowed = route.allows(permissions_of(principal.role)) and not (
        route.county_only and principal.at_station
    )
    scoped = bool(STATION_PARAMS & set(route.rule.arguments))
    problems = []
    cases: list[tuple[str, Records, bool]] = [("own", world.own, False)]
    if principal.at_station:
        cases.append(("other", world.other, False))
    if route.rule.arguments - {"name", "day"}:
        cases.append(("guessed", world.own, True))
    for method in sorted(route.methods, key=lambda m: m != "GET"):  # GETs first: POSTs may change state
        for case, records, guess in cases:
            url = url_for_rule(route.rule, records, guess=guess)
            response = _request(client, route, method, url, headers)
            status = response.status_code
            where = f"{principal} {method} {url} ({case})"
            expected = _expected(allowed, case, method, scoped)
            if expected is not None:
                if status not in expected:
                    problems.append(f"{where}: {status}, expected {sorted(expected)}")
            elif status in (500, 403) or (status > 500 and route.endpoint not in UPSTREAM):
                problems.append(f"{where}: {status}")
            if principal.at_station and world.other.marker.encode() in response.get_data():
                problems.append(f"{where}: shows another station's record")
    return problems


@pytest.mark.parametrize("principal", PRINCIPALS, ids=str)
def test_every_route_answers_each_role_as_intended(
    principal: Principal, db: Session, no_csrf: Flask, client: FlaskClient, world: World
) -> None:
    where = world.station_a if principal.at_station else None
    user = signed_in(client, db, principal.role, where)
    headers = api_token(db, user)
    # Signing out ends the session the rest of the routes run in: last.
    routes = sorted(protected_routes(no_csrf), key=lambda route: route.endpoint == "auth.logout")
    assert len(routes) > 80  # the catalogue really enumerates the app
    problems = [p for route in routes for p in _problems(client, route, principal, headers, world)]
    assert not problems, "\n".join(problems)


def test_anonymous_callers_are_sent_to_login_or_refused(
    no_csrf: Flask, client: FlaskClient, world: World
) -> None:
    problems = []
    for route in protected_routes(no_csrf):
        for method in route.methods:
            for guess in (False, True):
                url = url_for_rule(route.rule, world.own, guess=guess)
                response = client.open(url, method=method)
                if route.is_api:
                    ok = response.status_code == 401
                else:
                    ok = response.status_code == 302 and "/login" in response.headers["Location"]
                if not ok:
                    problems.append(f"{method} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_a_station_officer_lists_only_their_station(db: Session, client: FlaskClient, world: World) -> None:
    user = signed_in(client, db, Role.STATION_OFFICER, world.station_a)
    headers = api_token(db, user)
    for path in ("/api/v1/residents", "/api/v1/leads", "/api/v1/checkins"):
        items = client.get(path, headers=headers).get_json()["items"]
        stations = {item.get("station_id") for item in items}
        assert stations == {world.station_a.id}, (path, items)
    for path in ("/residents/", "/leads/", "/checkins/lists/non_responders"):
        page = client.get(path).get_data(as_text=True)
        assert world.own.marker in page or "标记线索" in page, path
        assert world.other.marker not in page, path
