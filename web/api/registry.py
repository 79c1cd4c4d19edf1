"""The API's operations, declared once: the routes are registered from these declarations and the
OpenAPI document is built from the very same objects, so the two cannot disagree.

A declared view receives a ``Call`` (the database, the caller, their scope and the parsed
parameters) and returns a ``Page`` (lists), a record, or None (404). Authentication, the
role check, parameter parsing, serialisation and the commit happen here, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot.models import Role, StaffUser
from bot.services.api_queries import Listing
from bot.services.audit import Actor
from bot.services.permissions import Permission, has
from bot.services.residents import Page
from bot.services.scope import COUNTY, Scope, scope_for
from web.api import limit
from web.api.auth import authenticate
from web.api.errors import ApiError
from web.api.items import ItemType
from web.api.params import PAGE, PER_PAGE, BadParameter, IntParam, Param
from web.auth import client_ip
from web.db import get_db

PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Call:
    db: Session
    user: StaffUser | None
    scope: Scope
    actor: Actor
    args: dict[str, Any]

    @property
    def page(self) -> int:
        value: int = self.args["page"]
        return value

    @property
    def per_page(self) -> int:
        value: int = self.args["per_page"]
        return value


View = Callable[[Call], Any]


@dataclass(frozen=True)
class Operation:
    path: str  # as in the OpenAPI document, e.g. /api/v1/residents/{resident_id}
    operation_id: str
    summary: str
    item: ItemType
    permission: Permission | None  # None: public (the OpenAPI document itself)
    many: bool = False
    params: tuple[Param, ...] = ()
    county_only: bool = False
    not_found: bool = False  # may answer 404 without a path parameter
    tag: str = ""

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    @property
    def statuses(self) -> tuple[int, ...]:
        """Every status this operation answers with (documented, and checked by the tests)."""
        codes = [200]
        if self.params:
            codes.append(400)
        if self.permission is not None:
            codes.append(401)
            if self.county_only or not all(has(role, self.permission) for role in Role):
                codes.append(403)
        if self.path_params or self.not_found:
            codes.append(404)
        if self.permission is not None:
            codes.append(429)  # the token's request budget
        return tuple(codes)

    def flask_rule(self) -> str:
        def converter(match: re.Match[str]) -> str:
            param = next(p for p in self.path_params if p.name == match[1])
            return f"<int:{param.name}>" if isinstance(param, IntParam) else f"<{param.name}>"

        return _PATH_PARAM.sub(converter, self.path.removeprefix(PREFIX))


@dataclass
class Registry:
    bp: Blueprint
    operations: list[Operation] = field(default_factory=list)

    def get(
        self,
        path: str,
        *,
        item: ItemType,
        summary: str,
        permission: Permission | None,
        many: bool = False,
        params: tuple[Param, ...] = (),
        county_only: bool = False,
        not_found: bool = False,
        tag: str = "",
    ) -> Callable[[View], View]:
        """Declare a GET operation and register its route on the blueprint."""

        def decorator(view: View) -> View:
            op = Operation(
                path=PREFIX + path,
                operation_id=view.__name__,
                summary=summary,
                item=item,
                permission=permission,
                many=many,
                params=(*params, PAGE, PER_PAGE) if many else params,
                county_only=county_only,
                not_found=not_found,
                tag=tag,
            )
            self.operations.append(op)
            self.bp.add_url_rule(op.flask_rule(), op.operation_id, _endpoint(op, view), methods=["GET"])
            return view

        return decorator

    def listing(
        self,
        path: str,
        listing: Listing,
        *,
        operation_id: str,
        item: ItemType,
        summary: str,
        permission: Permission,
        params: tuple[Param, ...],
        tag: str,
    ) -> None:
        """Declare a list operation that pages ``listing``, each parameter filtering by its column."""
        if {param.name for param in params} != set(listing.filters):
            raise ValueError(f"{path}: the parameters and the listing's filters must be the same")

        def view(call: Call) -> Page:
            return listing.page(call.db, call.scope, call.args, page=call.page, per_page=call.per_page)

        view.__name__ = operation_id
        self.get(path, item=item, summary=summary, permission=permission, many=True, params=params, tag=tag)(
            view
        )


def _endpoint(op: Operation, view: View) -> Callable[..., ResponseReturnValue]:
    def endpoint(**path_values: Any) -> ResponseReturnValue:
        db = get_db()
        call = _call(op, db, path_values)
        result = view(call)
        if result is None:
            raise ApiError(404, "not_found", "资源不存在，或不在您的辖区内")
        db.commit()  # audit events of PII reads, and the token's last use
        if isinstance(result, Page):
            items = [op.item.dump(record) for record in result.items]
            return jsonify(items=items, total=result.total, page=result.page, per_page=result.per_page)
        return jsonify(op.item.dump(result))

    endpoint.__name__ = op.operation_id
    return endpoint


def _call(op: Operation, db: Session, path_values: dict[str, Any]) -> Call:
    user = None
    scope = COUNTY
    actor = Actor(None, "api", client_ip())
    if op.permission is not None:
        token = authenticate(db)
        limit.spend(token)
        user = token.user
        if not has(user.role, op.permission):
            raise ApiError(403, "forbidden", "您的角色无权访问该资源")
        scope = scope_for(db, user)
        if op.county_only and not scope.is_county:
            raise ApiError(403, "forbidden", "该资源仅对县局账号开放")
        actor = Actor.staff(user, client_ip())
    return Call(db, user, scope, actor, _parse(op, path_values))


def _parse(op: Operation, path_values: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    try:
        for param in op.path_params:
            args[param.name] = param.parse(str(path_values[param.name]))
        for param in op.query_params:
            raw = request.args.get(param.name)
            args[param.name] = param.default() if raw is None else param.parse(raw)
    except BadParameter as exc:
        raise ApiError(400, "bad_request", f"参数 {exc.name} 有误：{exc.message}") from None
    return args
