"""The OpenAPI document matches the implementation: every route documented and every documented
route served; every documented status produced and its body valid against the documented schema."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import replace
from bot.models import Advisory, Role
from bot.runtime import Runtime
from bot.services import api_queries, reports, staff
from bot.services.audit import SYSTEM
from bot.services.permissions import Permission, has
from tests.factories import make_station, make_user
from tests.reports.scenario import DAY, NOW, TZ, build
from web import create_app
from web.api import api, items
from web.api.params import IntParam
from web.api.registry import Operation, Registry

MISSING_ID = 2147483000


def _documented(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.get_json()
    return doc


def test_every_api_route_is_documented_and_every_documented_path_is_served(
    app: Flask, client: FlaskClient
) -> None:
    doc = _documented(client)
    assert doc["openapi"].startswith("3.1")
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {
                (path, method.lower()) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
            }
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert served == documented
    for path, item in doc["paths"].items():
        declared = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path
    contract = {"/api/v1/stats", "/api/v1/residents", "/api/v1/residents/{resident_id}", "/api/v1/checkins"}
    contract |= {
        "/api/v1/visits",
        "/api/v1/leads",
        "/api/v1/tips",
        "/api/v1/tip-clusters",
        "/api/v1/advisories",
    }
    contract |= {"/api/v1/advisories/{advisory_id}/deliveries", "/api/v1/reports", "/api/v1/reports/{day}"}
    assert contract <= set(doc["paths"])


def _validator(doc: dict[str, Any], op_doc: dict[str, Any], status: int) -> Any:
    response = op_doc["responses"][str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": doc["components"]}, validate_formats=True
    )


def _without(role_needed: Operation) -> Role:
    """A role that lacks the operation's permission (or, for county-only ones, a station account)."""
    assert role_needed.permission is not None
    lacking = [r for r in Role if not has(r, role_needed.permission)]
    return lacking[0] if lacking else Role.STATION_OFFICER


def _urls(op: Operation, values: dict[str, str]) -> dict[int, str]:
    """A URL producing each documented status of ``op``."""

    def fill(**override: str) -> str:
        path = op.path
        for param in op.path_params:
            path = path.replace("{" + param.name + "}", override.get(param.name, values[param.name]))
        return path

    urls = {200: fill()}
    if 400 in op.statuses:
        if op.path_params:
            urls[400] = fill(
                **{p.name: "0" if p.name.endswith("_id") else "not-a-day" for p in op.path_params}
            )
        else:
            urls[400] = fill() + ("?page=0" if op.many else f"?{op.params[0].name}=not-valid")
    if 404 in op.statuses:
        missing = {
            p.name: str(MISSING_ID) if p.name.endswith("_id") else "2019-01-01" for p in op.path_params
        }
        urls[404] = fill(**missing) if op.path_params else fill() + "?date=1999-12-31"
    return urls


@pytest.fixture()
def seeded(db: Session) -> dict[str, str]:
    day = build(db)
    reports.draft(db, DAY, tz=TZ, now=NOW)
    advisory = db.scalars(select(Advisory.id)).first()
    db.commit()
    return {"resident_id": str(day.fever.id), "advisory_id": str(advisory), "day": DAY.isoformat()}


def _spent(rt: Runtime, db: Session) -> tuple[FlaskClient, str]:
    """A client of an app allowing one request an hour per token, and a token that made it."""
    settings = replace(rt.settings, web={"api_rate_limit": "1/hour"})
    limited = create_app(runtime=Runtime(settings, rt.engine, rt.sessions))
    token = staff.create_api_token(db, SYSTEM, make_user(db, Role.ADMIN))
    db.commit()
    client = limited.test_client()
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    return client, token


def test_every_documented_response_matches_its_schema(
    rt: Runtime, client: FlaskClient, db: Session, seeded: dict
) -> None:
    doc = _documented(client)
    admin_token = staff.create_api_token(db, SYSTEM, make_user(db, Role.ADMIN))
    tokens: dict[Role, str] = {}
    db.commit()
    spent_client, spent_token = _spent(rt, db)
    seen: set[tuple[str, int]] = set()
    for op in api.operations:
        op_doc = doc["paths"][op.path]["get"]
        assert sorted(int(s) for s in op_doc["responses"]) == sorted(op.statuses), op.path
        urls = _urls(op, seeded)
        query = "?date=" + DAY.isoformat() if op.path.endswith(("/stats", "/checkins")) else ""
        urls[200] += query
        calls = [(status, url, admin_token) for status, url in urls.items()]
        if op.permission is not None:
            calls.append((401, urls[200], ""))
        if 403 in op.statuses:
            role = _without(op)
            if role not in tokens:
                tokens[role] = staff.create_api_token(db, SYSTEM, make_user(db, role, make_station(db)))
                db.commit()
            calls.append((403, urls[200], tokens[role]))
        if 429 in op.statuses:
            calls.append((429, urls[200], spent_token))
        for status, url, token in calls:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = (spent_client if status == 429 else client).get(url, headers=headers)
            assert response.status_code == status, (url, status, response.get_data(as_text=True))
            body = response.get_json()
            _validator(doc, op_doc, status).validate(body)
            if status == 200 and op.many:
                assert body["items"], f"{url} returned no items: the seed should cover it"
            seen.add((op.path, status))
    assert seen == {(op.path, s) for op in api.operations for s in op.statuses}


def test_a_response_drifting_from_its_schema_would_be_caught(client: FlaskClient) -> None:
    doc = _documented(client)
    op_doc = doc["paths"]["/api/v1/residents/{resident_id}"]["get"]
    validator = _validator(doc, op_doc, 200)
    good = {key: None for key in doc["components"]["schemas"]["Resident"]["properties"]}
    assert not validator.is_valid(good)  # wrong types
    assert not validator.is_valid({"id": 1})  # missing fields
    assert not validator.is_valid({"error": {"code": "x", "message": "y"}})


def test_a_list_whose_parameters_are_not_its_filters_is_refused() -> None:
    registry = Registry(Blueprint("declared", __name__))
    declared = {"item": items.TIP, "summary": "", "permission": Permission.REVIEW_TIPS, "tag": ""}
    with pytest.raises(ValueError, match="filters"):
        registry.listing("/tips", api_queries.TIPS, operation_id="list_tips", params=(), **declared)
    registry.listing(
        "/tips",
        api_queries.TIPS,
        operation_id="list_tips",
        params=(IntParam(name="cluster_id", description=""),),
        **declared,
    )
    assert [op.operation_id for op in registry.operations] == ["list_tips"]
