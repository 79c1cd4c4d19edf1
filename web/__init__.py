"""The staff panel and the public endpoints: ``create_app(settings=None)``."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine

from bot.config import Settings, load_settings
from bot.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, runtime: Runtime | None = None
) -> Flask:
    """The WSGI app. Tests pass a ``runtime`` whose sessions join their transaction."""
    if runtime is None:
        runtime = Runtime.from_settings(settings or load_settings(), engine)
    rt = runtime
    settings = rt.settings
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    secure = settings.web.public_base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.web.secret_key,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_NAME="lanxi_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.web.session_absolute_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
    )
    _register(app, rt)
    logging.getLogger(__name__).debug("panel created with settings from %s", settings.source)
    return app


def _register(app: Flask, rt: Runtime) -> None:
    from bot import webhook
    from bot.conversations import handlers
    from web import (
        advisories,
        api,
        audit,
        auth,
        checkins,
        dashboard,
        db,
        health,
        leads,
        public,
        reports,
        residents,
        security,
        simulator,
        staff,
        templating,
        tips,
    )
    from web.extensions import csrf, login_manager

    db.init_app(app, rt)
    csrf.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    health.init_app(app)
    auth.init_app(app)
    dashboard.init_app(app)
    app.extensions["lanxi_handlers"] = handlers(rt.settings)
    app.register_blueprint(webhook.bp)
    csrf.exempt(webhook.bp)  # WeChat signs its requests; there is no browser session to forge
    for area in (residents, checkins, advisories, tips, leads, reports, audit, staff, simulator, public, api):
        area.init_app(app)
