"""Security headers, error pages and session cookie policy."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ERROR_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "上传内容过大",
    429: "请求过于频繁",
    500: "系统内部错误",
    503: "服务暂不可用",
}


def _headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if request.path.startswith(("/api/", "/healthz")) or request.accept_mimetypes.best == "application/json":
        return {
            "error": {"code": exc.name.lower().replace(" ", "_"), "message": ERROR_TITLES.get(code, exc.name)}
        }, code
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, exc.name)), code


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _error)
