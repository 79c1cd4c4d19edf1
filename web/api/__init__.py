"""The JSON API under /api/v1: bearer tokens, the panel's roles and scopes, OpenAPI described."""

from __future__ import annotations

from flask import Flask, Response

from web.api import limit
from web.api.errors import ApiError, render
from web.api.resources import api, bp

__all__ = ["api", "bp", "init_app"]


def _no_store(response: Response) -> Response:
    # Answers carry personal data: no shared or browser cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


bp.register_error_handler(ApiError, render)
bp.after_request(_no_store)


def init_app(app: Flask) -> None:
    from web.extensions import csrf

    csrf.exempt(bp)  # bearer tokens only, never cookies: there is no session to forge
    app.register_blueprint(bp)
    limit.init_app(app)
