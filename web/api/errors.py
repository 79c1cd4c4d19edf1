"""API errors: ``{"error": {"code", "message"}}`` with the matching status, never an HTML page."""

from __future__ import annotations

from flask import Response, jsonify


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def render(exc: ApiError) -> Response:
    response = jsonify(error={"code": exc.code, "message": exc.message})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lanxi"'
    return response
