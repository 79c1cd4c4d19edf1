"""Flask extensions, created unbound and initialised in create_app (no import-time side effects)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = None  # our server-side sessions already bind and revoke
