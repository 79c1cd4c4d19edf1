"""Security headers, error pages and session cookie policy."""

from __future__ import annotations

import logging

from flask import Flask, Request, Response, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import InternalError, OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from bot import webhook
from bot.db import is_unavailable
from web import db

log = logging.getLogger(__name__)

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
UNAVAILABLE_MESSAGE = "数据库暂时无法访问，请稍后重试。已记录日志。"


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
    title = ERROR_TITLES.get(code, exc.name)
    page = render_template(
        "errors/error.html", code=code, title=title, unavailable_message=UNAVAILABLE_MESSAGE
    )
    return page, code


def _database_unavailable(exc: OperationalError | InternalError) -> ResponseReturnValue:
    """The database is down, locked, read-only or out of disk: one log line and the 503 page, not a 500."""
    if not is_unavailable(exc):
        raise exc
    first_line = (str(exc.orig).splitlines() or [""])[0]
    log.error("%s %s: database unavailable (%s)", request.method, request.path, first_line)
    db.rollback()
    try:
        return _error(ServiceUnavailable())
    except (OperationalError, InternalError):
        # Not even the signed-in user's name can be read for the page's frame: the message alone.
        return Response(f"503 {ERROR_TITLES[503]}：{UNAVAILABLE_MESSAGE}", 503, mimetype="text/plain")


class PanelSessions(SecureCookieSessionInterface):
    """The panel's signed-cookie session. WeChat's callbacks get none: they carry no cookie and
    must never be sent one, so no cookie is read or signed and no ``Vary: Cookie`` is added."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path in webhook.PATHS:  # opened before the URL is matched: the path tells
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = PanelSessions()
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InternalError, _database_unavailable)
