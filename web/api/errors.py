"""API errors: ``{"error": {"code", "message"}}`` with the matching status, never an HTML page."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def render(exc: ApiError) -> Response:
    response = jsonify(error={"code": exc.code, "message": exc.message})
    response.status_code = exc.status
    response.headers.update(exc.headers)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lanxi"'
    return response
