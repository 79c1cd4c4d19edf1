"""The public rumor-tip form ``/report`` (no login, mobile) and each tip's status page.

Abuse controls, cheapest first: a per-client hourly budget kept in the database (a keyed hash
of the address, so it holds across processes and never stores the address); a honeypot field
people never see; a minimum time between the page being served (signed into the form) and its
submission; length and type limits on every field, the picture checked by its bytes; and the
same per-reporter daily limit as the bot. The status page is reached only through the link the
form gives (ticket plus a keyed token), so tickets cannot be enumerated.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import HiddenField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from bot.clock import now_utc
from bot.models import TipChannel
from bot.services import tip_media, tip_placement, tip_replies, tips
from web.auth import client_ip
from web.db import get_db, runtime

bp = Blueprint("report", __name__)
MIN_FILL_SECONDS = 3
MAX_FORM_AGE_SECONDS = 2 * 3600
IMAGES: frozenset[tip_media.MediaKind] = frozenset({"image"})
Spam = Literal["honeypot", "fast", "expired"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="lanxi-tip-form-started")


def started_token(at: float | None = None) -> str:
    """The signed moment the form was served (tests pass an earlier one)."""
    return _serializer().dumps(int(at if at is not None else time.time()))


def _http_link(_form: FlaskForm, field: StringField) -> None:
    value = (field.data or "").strip()
    if value and not value.lower().startswith(("http://", "https://", "www.")):
        raise ValidationError("链接要以 http:// 或 https:// 开头")


class ReportForm(FlaskForm):
    content = TextAreaField("您看到的说法", validators=[Optional(), Length(max=2000, message="最多 2000 字")])
    seen_where = StringField(
        "在哪里看到的",
        validators=[DataRequired("请填写在哪里看到的"), Length(max=100, message="最多 100 字")],
    )
    seen_when = StringField(
        "大概什么时候看到的", validators=[Optional(), Length(max=50, message="最多 50 字")]
    )
    link = StringField(
        "链接（可不填）", validators=[Optional(), Length(max=500, message="链接太长"), _http_link]
    )
    image = FileField("截图（可不填）")
    contact = StringField("联系方式（可不填）", validators=[Optional(), Length(max=50, message="最多 50 字")])
    website = StringField("网站")  # the honeypot: hidden from people, filled in by bots
    started = HiddenField()

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if (
            not (self.content.data or "").strip()
            and not (self.link.data or "").strip()
            and not self.image.data
        ):
            self.content.errors = [*self.content.errors, "请填写看到的说法，或附上链接、截图"]
            return False
        return valid


def _spam(form: ReportForm) -> Spam | None:
    if (form.website.data or "").strip():
        return "honeypot"
    try:
        started = int(_serializer().loads(form.started.data or ""))
    except (BadSignature, TypeError, ValueError):
        return "expired"
    age = time.time() - started
    if age > MAX_FORM_AGE_SECONDS:
        return "expired"
    return "fast" if age < MIN_FILL_SECONDS else None


def _upload(form: ReportForm, max_bytes: int) -> bytes | None:
    storage = form.image.data
    if not storage:
        return None
    data: bytes = storage.read(max_bytes + 1)
    try:
        tip_media.check(data, max_bytes, IMAGES)
    except tip_media.MediaRejected as exc:
        form.image.errors = [str(exc)]
        return b""
    return data


def _kind(text: str, link: str, upload: bytes | None) -> str:
    if text:
        return "text"
    return "link" if link else "image" if upload else "text"


def _form_page(form: ReportForm, message: str = "", status: int = 200) -> ResponseReturnValue:
    form.started.data = started_token()
    form.website.data = ""
    max_mb = max(1, runtime().settings.tips.max_media_bytes // (1024 * 1024))
    return render_template("public/report.html", form=form, message=message, max_mb=max_mb), status


@bp.route("/report", methods=["GET", "POST"])
def report() -> ResponseReturnValue:
    form = ReportForm()
    if request.method == "GET":
        return _form_page(form)
    settings, db, now = runtime().settings, get_db(), now_utc()
    tip_placement.placement_lock(db)  # before the first read: the budget check and the tip are one step
    client = tips.reporter_hash_of_client(client_ip())
    if tips.form_rate_limited(db, settings, client, now):
        return render_template("public/report_refused.html", reason="rate"), 429
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    spam = _spam(form)
    if spam == "expired":
        return _form_page(form, "页面停留太久，请再提交一次。", status=400)
    if spam is not None:
        tips.note_form_hit(db, client, now)
        db.commit()
        if spam == "fast":
            return _form_page(form, "提交太快了，请核对内容后再提交一次。", status=400)
        return render_template("public/report_status.html", view=None, new=True)
    upload = _upload(form, settings.tips.max_media_bytes)
    if upload == b"":
        return _form_page(form, status=400)
    text, link = (form.content.data or "").strip(), (form.link.data or "").strip()
    new = tips.NewTip(
        channel=TipChannel.FORM,
        reporter_hash=client,
        text=text,
        url=link,
        kind=_kind(text, link, upload),
        seen_where=form.seen_where.data or "",
        seen_when=form.seen_when.data or "",
        contact=form.contact.data or "",
        upload=upload,
    )
    tips.note_form_hit(db, client, now)
    try:
        tip = tips.submit(db, settings, new, now=now)
    except tips.TipRefused:
        db.commit()  # the hit still counts
        return render_template("public/report_refused.html", reason="limit"), 429
    db.commit()
    token = tip_replies.status_token(tip.ticket)
    return redirect(url_for("report.status", ticket=tip.ticket, token=token, new=1))


@bp.route("/report/status/<ticket>/<token>")
def status(ticket: str, token: str) -> ResponseReturnValue:
    tip = tips.find_by_status_link(get_db(), ticket, token)
    if tip is None:
        abort(404)
    view = tips.reporter_view(runtime().settings, tip)
    return render_template("public/report_status.html", view=view, new=request.args.get("new") == "1")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
