"""Line-list pages and their exports, mounted on the blueprints of the areas that own them.

``PLACES`` says which area serves each list; ``mount(bp)`` adds ``/lists/<name>`` (GET, the
page) and ``/lists/<name>/export`` (POST, the .xlsx) to that area's blueprint; ``list_url``
(a template global) links to a list wherever it lives, so every number on the dashboard
points at the rows behind it.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from bot.clock import local_today, now_utc
from bot.services import exports, linelists
from bot.services.labels import label
from bot.services.linelists import LineList, ListQuery
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.roles import actor, can, my_scope, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The blueprint (area) serving each list, and what it takes to see that area's lists.
PLACES: dict[str, str] = {
    "checkins": "checkins",
    "non_responders": "checkins",
    "abnormal": "checkins",
    "phone_list": "checkins",
    "monitoring": "residents",
    "monitoring_ending": "residents",
    "unbound": "residents",
    "visited": "residents",
    "registry": "residents",
    "leads": "dashboard",
    "leads_overdue": "dashboard",
}
AREA_PERMISSIONS: dict[str, Permission] = {
    "checkins": Permission.VIEW_RESIDENTS,
    "residents": Permission.VIEW_RESIDENTS,
    "dashboard": Permission.VIEW_LEADS,
}
PHONE_LIST_ENDPOINT = "checkins.phone_list"


class ExportForm(FlaskForm):
    unmasked = BooleanField("导出未脱敏数据（完整手机号、身份证号）")
    reason = StringField("导出理由", validators=[Length(max=exports.MAX_REASON_LENGTH)])


def current_query(spec: LineList) -> ListQuery:
    source = request.form if request.method == "POST" else request.args
    return linelists.parse_query(spec, source.to_dict(), local_today(runtime().settings.tz))


def _list_base(name: str) -> str | None:
    area = PLACES.get(name)
    if area is None or not can(AREA_PERMISSIONS[area]):
        return None
    if (
        name == "phone_list"
        and PHONE_LIST_ENDPOINT in current_app.view_functions
        and can(Permission.RECORD_VISITS)
    ):
        return url_for(PHONE_LIST_ENDPOINT)
    endpoint = f"{area}.line_list"
    return url_for(endpoint, name=name) if endpoint in current_app.view_functions else None


def list_url(name: str, **params: Any) -> str | None:
    """The URL of list ``name`` with these filters; None where it is not served or not allowed.

    The dashboard links hundreds of numbers: each list's path is resolved once per request.
    """
    bases: dict[str, str | None] = g.setdefault("list_bases", {})
    if name not in bases:
        bases[name] = _list_base(name)
    base = bases[name]
    if base is None:
        return None
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{base}?{query}" if query else base


def here_url(query: ListQuery, **changes: Any) -> str:
    """This page again with the query changed (sorting, paging), for links in templates."""
    args: dict[str, Any] = {**(request.view_args or {}), **query.params(**changes)}
    return url_for(request.endpoint or "dashboard.index", **args)


def export_url(name: str) -> str:
    return url_for(f"{PLACES[name]}.export_list", name=name)


def render_list(spec: LineList, template: str = "linelists/list.html", **context: Any) -> ResponseReturnValue:
    """The list page: filters, the export form, one page of rows, the pager."""
    db = get_db()
    scope = my_scope()
    query = current_query(spec)
    return render_template(
        template,
        spec=spec,
        query=query,
        page=linelists.page(db, scope, spec, query, runtime().settings.tz),
        choices=linelists.filter_choices(db, scope),
        export_form=ExportForm(formdata=None),
        **context,
    )


def export(spec: LineList) -> ResponseReturnValue:
    """POST: the list as .xlsx (masked unless asked, allowed and reasoned), audited."""
    if not can(Permission.EXPORT):
        abort(403)
    form = ExportForm()
    query = current_query(spec)
    back = list_url(spec.name, **query.params()) or url_for("dashboard.index")
    if not form.validate_on_submit():
        flash("导出请求无效，请刷新页面后重试。", "error")
        return redirect(back)
    db = get_db()
    try:
        file = exports.export_list(
            db,
            actor(),
            my_scope(),
            spec,
            query,
            tz=runtime().settings.tz,
            now=now_utc(),
            unmasked=bool(form.unmasked.data),
            may_unmask=can(Permission.EXPORT_UNMASKED),
            reason=form.reason.data or "",
        )
    except exports.ExportError as exc:
        flash(str(exc), "error")
        return redirect(back)
    db.commit()
    response = send_file(
        io.BytesIO(file.content), mimetype=XLSX, as_attachment=True, download_name=file.filename, max_age=0
    )
    response.headers["Cache-Control"] = "no-store"  # never kept by a shared cache
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(list_url=list_url, export_url=export_url, here_url=here_url, label=label)


def mount(bp: Blueprint) -> None:
    """Serve on ``bp`` the lists PLACES gives to its area (call once, at import time)."""
    names = frozenset(name for name, area in PLACES.items() if area == bp.name)
    permission = AREA_PERMISSIONS[bp.name]

    def spec_of(name: str) -> LineList:
        spec = linelists.LISTS.get(name)
        if name not in names or spec is None:
            abort(404)
        return spec

    @bp.route("/lists/<name>", endpoint="line_list")
    @require(permission)
    def line_list(name: str) -> ResponseReturnValue:
        return render_list(spec_of(name))

    @bp.route("/lists/<name>/export", methods=["POST"], endpoint="export_list")
    @require(permission)
    def export_list(name: str) -> ResponseReturnValue:
        return export(spec_of(name))
