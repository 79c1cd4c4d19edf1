"""Sign-in and sign-out with revocable server-side sessions (Flask-Login alternative tokens)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.models import StaffUser
from bot.services import staff
from web.db import get_db, runtime
from web.extensions import login_manager

bp = Blueprint("auth", __name__)
GENERIC_LOGIN_ERROR = "用户名或密码错误，或账号已被锁定。"


class PanelUser(UserMixin):
    """The signed-in staff member; ``get_id`` is the session secret, so logout revokes it."""

    def __init__(self, user: StaffUser, session_token: str) -> None:
        self.staff = user
        self.session_token = session_token

    def get_id(self) -> str:
        return self.session_token


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=200)])


def login_policy() -> staff.LoginPolicy:
    web = runtime().settings.web
    return staff.LoginPolicy(
        max_failures=web.login_max_failures,
        lockout=timedelta(minutes=web.login_lockout_minutes),
        idle=timedelta(minutes=web.session_idle_minutes),
        absolute=timedelta(hours=web.session_absolute_hours),
    )


def client_ip() -> str:
    return request.remote_addr or ""


@login_manager.user_loader
def _load_user(session_token: str) -> PanelUser | None:
    db = get_db()
    user = staff.resume_session(db, session_token, login_policy())
    db.commit()
    return PanelUser(user, session_token) if user else None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        user = staff.authenticate(
            db, form.username.data or "", form.password.data or "", ip=client_ip(), policy=login_policy()
        )
        if user is None:
            db.commit()  # the failed attempt counts toward the lockout
            flash(GENERIC_LOGIN_ERROR, "error")
            return render_template("auth/login.html", form=form), 401
        token = staff.open_session(db, user, ip=client_ip(), user_agent=request.user_agent.string)
        db.commit()
        session.clear()
        login_user(PanelUser(user, token))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    db = get_db()
    staff.close_session(db, current_user.session_token)
    db.commit()
    logout_user()
    session.clear()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
