"""Bearer-token authentication for the API: the Authorization header only, never a cookie."""

from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from bot.models import StaffUser
from bot.services import staff
from web.api.errors import ApiError

_MAX_TOKEN = 200


def authenticate(db: Session) -> StaffUser:
    """The token's (active) user, else 401. A revoked token or disabled account is refused."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "需要 Authorization: Bearer <token>")
    token = token.strip()
    user = staff.user_for_api_token(db, token) if len(token) <= _MAX_TOKEN else None
    if user is None:
        raise ApiError(401, "unauthorized", "令牌无效或已被吊销")
    return user
