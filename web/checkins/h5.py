"""``/h5/checkin``: the residents' mobile check-in page, opened from the check-in template message.

No staff login: the phone is identified through WeChat web authorization (snsapi_base). The page
sends the browser to WeChat with a random state kept in its session, WeChat sends it back with a
one-time code, the code is exchanged for the openid, and the openid (in the signed session) leads
to the bound resident. The answers go to the same service as the chat's. Someone not bound yet
is told to bind in the chat first.
"""

from __future__ import annotations

import secrets

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from bot.channels.base import DeliveryError
from bot.checkin_jobs import h5_url
from bot.clock import local_today, now_utc
from bot.models import ContactMethod, Resident
from bot.services import binding, checkins
from web.checkins import h5_bp
from web.checkins.forms import H5CheckinForm
from web.checkins.routes import official_account
from web.db import get_db, runtime

OPENID = "h5_openid"
STATE = "h5_oauth_state"


def _page(page: str, status: int = 200, **context: object) -> ResponseReturnValue:
    return render_template(f"checkins/h5_{page}.html", **context), status


def _authorize() -> ResponseReturnValue:
    state = secrets.token_urlsafe(16)
    session[STATE] = state
    with official_account() as (api, _store):
        return redirect(api.oauth_authorize_url(h5_url(runtime()), state))


def _authorized(code: str, state: str) -> ResponseReturnValue:
    expected = session.pop(STATE, None)
    if not expected or not secrets.compare_digest(expected, state):
        return _page("message", 400, title="链接已失效", text="请回到公众号，重新点开报平安的消息。")
    try:
        with official_account() as (api, _store):
            session[OPENID] = api.oauth_openid(code)
    except DeliveryError:
        return _page(
            "message", 502, title="微信授权没有成功", text="请稍后再试，或者直接在公众号里回复“报平安”。"
        )
    return redirect(url_for("h5.checkin"))


def _resident() -> Resident | None:
    openid = session.get(OPENID)
    if not isinstance(openid, str):
        return None
    return binding.resident_of(get_db(), runtime().settings.wechat.app_id, openid)


@h5_bp.route("/checkin", methods=["GET", "POST"])
def checkin() -> ResponseReturnValue:
    if request.method == "GET" and "code" in request.args:
        return _authorized(request.args["code"], request.args.get("state", ""))
    if not isinstance(session.get(OPENID), str):
        return _authorize()
    resident = _resident()
    if resident is None:
        return _page(
            "message",
            title="请先绑定",
            text="您的微信还没有和登记信息绑定。请回到公众号，回复“绑定”，按提示完成后再来报平安。",
        )
    db = get_db()
    settings = runtime().settings
    today = local_today(settings.tz)
    existing = checkins.find(db, resident.id, today)
    if existing is not None and existing.status in checkins.DONE:
        return _page("done", checkin=existing, already=True)
    form = H5CheckinForm()
    if not form.validate_on_submit():
        return _page("form", form=form, today=today, name=resident.name)
    checkin = checkins.get_or_create(db, resident, today)
    done = checkins.complete(
        db, settings, resident, checkin, form.answers(), method=ContactMethod.H5, now=now_utc()
    )
    db.commit()
    return _page(
        "done", checkin=done.checkin, already=done.already, monitoring_days=settings.checkin.monitoring_days
    )
