"""Role and jurisdiction checks for views: one decorator, one scope helper."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g
from flask_login import current_user, login_required

from bot.models import StaffUser
from bot.services.audit import Actor
from bot.services.permissions import Permission, has
from bot.services.scope import Scope, scope_for
from web.db import get_db

F = TypeVar("F", bound=Callable[..., Any])


def me() -> StaffUser:
    user: StaffUser = current_user.staff
    return user


def actor() -> Actor:
    from web.auth import client_ip

    return Actor.staff(me(), client_ip())


def can(permission: Permission) -> bool:
    return bool(current_user.is_authenticated and has(me().role, permission))


def require(permission: Permission) -> Callable[[F], F]:
    """Signed in and holding ``permission``, else 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has(me().role, permission):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def my_scope() -> Scope:
    if "scope" not in g:
        g.scope = scope_for(get_db(), me())
    scope: Scope = g.scope
    return scope


def ensure_station_visible(station_id: int | None) -> None:
    """Another jurisdiction's record answers 404: its existence is not disclosed."""
    if not my_scope().allows_station(station_id):
        abort(404)
