"""Bearer-token authentication for the API: the Authorization header only, never a cookie."""

from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from bot.models import ApiToken
from bot.services import staff
from web.api.errors import ApiError

_MAX_TOKEN = 200


def authenticate(db: Session) -> ApiToken:
    """The caller's live token (its user active), else 401: a revoked token or disabled account is refused."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "需要 Authorization: Bearer <token>")
    token = token.strip()
    live = staff.live_api_token(db, token) if len(token) <= _MAX_TOKEN else None
    if live is None:
        raise ApiError(401, "unauthorized", "令牌无效或已被吊销")
    return live
