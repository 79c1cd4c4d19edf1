"""The route catalogue and a two-station world for the access-control tests.

The intended permission of each panel view is read from its ``@require`` decorator (the
permission sits in the decorator's closure) and of each API operation from its declaration,
so a new route is covered the day it is added; routes with no such permission must be listed
here explicitly, as public or as checked inside the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from bot.models import Jurisdiction, Role, StaffUser
from bot.runtime import Runtime
from bot.services import staff
from bot.services.permissions import Permission
from tests import factories as f
from tests.panel.support import staff_member, today

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "health.healthz",
        "health.metrics",
        "webhook.official_account",
        "webhook.wecom",
        "advisory_page.page",
        "advisory_page.cover",
        "advisory_page.share",
        "report.report",
        "report.status",
        "h5.checkin",
        "static",
        "api.openapi_document",
    }
)
# Signed in, with the check inside the view (or none needed): what each one allows.
IN_VIEW_CHECKS: dict[str, Callable[[frozenset[Permission]], bool]] = {
    "auth.logout": lambda perms: True,
    "advisories.tasks": lambda perms: True,  # each user sees only their own forwarding tasks
    "advisories.task_done": lambda perms: True,  # someone else's task answers 404
    "advisories.cancel": lambda perms: bool(
        perms & {Permission.COMPOSE_ADVISORIES, Permission.APPROVE_ADVISORIES}
    ),
}
# Panel areas that cover every station: township and station accounts get 403 (web/reports/routes.py).
COUNTY_ONLY_BLUEPRINTS = frozenset({"reports"})
# Path parameters naming a record that belongs to one station (404 from another jurisdiction).
STATION_PARAMS = frozenset({"resident_id", "checkin_id", "lead_id", "station_id"})
GUESS = 987654321
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# One line list per area; each is scoped like the residents it lists.
LIST_NAMES = {"checkins": "non_responders", "residents": "registry", "dashboard": "leads"}


def required_permission(view: Callable[..., Any]) -> Permission | None:
    """The permission a ``@require`` view demands (found in the decorator's closure), else None."""
    pending: list[Any] = [view]
    seen: set[int] = set()
    while pending:
        fn = pending.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for cell in getattr(fn, "__closure__", None) or ():
            value = cell.cell_contents
            if isinstance(value, Permission):
                return value
            if callable(value):
                pending.append(value)
        if wrapped := getattr(fn, "__wrapped__", None):
            pending.append(wrapped)
    return None


def api_permissions(app: Flask) -> dict[str, tuple[Permission | None, bool]]:
    """endpoint -> (permission, county_only) of every declared API operation."""
    from web.api.resources import api

    return {f"api.{op.operation_id}": (op.permission, op.county_only) for op in api.operations}


@dataclass(frozen=True)
class Route:
    rule: Rule
    permission: Permission | None
    allows: Callable[[frozenset[Permission]], bool]
    county_only: bool = False

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(self.rule.methods or ()) - {"HEAD", "OPTIONS"}

    @property
    def is_api(self) -> bool:
        return self.endpoint.startswith("api.")


def protected_routes(app: Flask) -> Iterator[Route]:
    """Every route that needs a signed-in caller, with what it requires; fails on an unknown one."""
    declared = api_permissions(app)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.endpoint in declared:
            permission, county_only = declared[rule.endpoint]
            assert permission is not None, f"{rule.endpoint} is public but not listed as public"
            yield Route(rule, permission, _holding(permission), county_only)
            continue
        permission = required_permission(app.view_functions[rule.endpoint])
        county_only = rule.endpoint.split(".")[0] in COUNTY_ONLY_BLUEPRINTS
        if permission is not None:
            yield Route(rule, permission, _holding(permission), county_only)
        else:
            assert rule.endpoint in IN_VIEW_CHECKS, f"{rule.rule}: neither public, @require, nor listed"
            yield Route(rule, None, IN_VIEW_CHECKS[rule.endpoint])


def _holding(permission: Permission) -> Callable[[frozenset[Permission]], bool]:
    return lambda perms: permission in perms


@dataclass(frozen=True)
class Records:
    """Ids of one station's records, plus the county-wide ones, by path-parameter name."""

    ids: dict[str, Any]
    marker: str  # text that appears only in pages showing this station's records


@dataclass(frozen=True)
class World:
    station_a: Jurisdiction
    station_b: Jurisdiction
    own: Records  # station A
    other: Records  # station B


def build_world(db: Session, rt: Runtime) -> World:
    station_a, station_b = f.make_station(db), f.make_station(db)
    author = staff_member(db, Role.PROPAGANDA)
    group = f.make_group(db)
    advisory = f.make_advisory(db, author, [group])
    tip = f.make_tip(db, rt.settings)
    county_wide = {
        "advisory_id": advisory.id,
        "group_id": group.id,
        "tip_id": tip.id,
        "cluster_id": tip.cluster_id,
        "day": today(rt).isoformat(),
    }
    return World(
        station_a,
        station_b,
        _records(db, rt, station_a, county_wide),
        _records(db, rt, station_b, county_wide),
    )


def _records(db: Session, rt: Runtime, station: Jurisdiction, county_wide: dict[str, Any]) -> Records:
    marker = f"标记居民{station.id}号"
    resident = f.make_resident(db, station, name=marker)
    checkin = f.make_checkin(db, resident, today(rt))
    lead = f.make_lead(db, station, title=f"标记线索{station.id}号")
    ids = {
        **county_wide,
        "resident_id": resident.id,
        "checkin_id": checkin.id,
        "lead_id": lead.id,
        "station_id": station.id,
    }
    return Records(ids, marker)


def url_for_rule(rule: Rule, records: Records, *, guess: bool = False) -> str:
    """The rule's URL with the records' ids (or a guessed, non-existent id for every int parameter)."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "name":
            values[name] = LIST_NAMES[rule.endpoint.split(".")[0]]
        elif guess and name != "day":
            values[name] = GUESS
        else:
            values[name] = records.ids.get(name, GUESS)
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def api_token(db: Session, user: StaffUser) -> dict[str, str]:
    from bot.services.audit import SYSTEM

    token = staff.create_api_token(db, SYSTEM, user, "access tests")
    db.commit()
    return {"Authorization": f"Bearer {token}"}
