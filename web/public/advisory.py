"""The public mobile page of an advisory, ``/a/<token>``: counts opens, and shares through its button.

The token is the advisory's own or one target's share token, so a page opened from a group's link is
counted for that group. Counting rules (bots, repeated opens) live in ``bot.services.advisory_reach``.
The share button posts without a CSRF token on purpose: there is no session to protect, and a share is
counted at most once per client and day however often it is posted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.clock import now_utc
from bot.config import Settings
from bot.models import Advisory
from bot.models.enums import ReachKind
from bot.services import advisories, advisory_reach
from bot.services.advisory_reach import PublicPage
from web.db import get_db, runtime
from web.extensions import csrf

bp = Blueprint("advisory_page", __name__)
# CommonMark without raw HTML: tags in a body are shown as text; unsafe link schemes are refused.
_markdown = MarkdownIt("commonmark", {"html": False})


def body_html(body: str, body_format: str) -> Markup:
    if body_format == "markdown":
        return Markup(_markdown.render(body))  # noqa: S704 - raw HTML disabled above
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(p) for p in paragraphs)


def page_context(
    db: Session, settings: Settings, advisory: Advisory, token: str, now: datetime
) -> dict[str, Any]:
    """What the page shows (TemplateProblem if the advisory does not render)."""
    values = advisories.variables(db, settings, advisories.send_day(settings, advisory, now))
    content = advisories.rendered_with(values, settings, advisory, token)
    return {
        "title": content.title,
        "body": body_html(content.body, content.body_format),
        "link_url": content.link_url,
        "county": values.county,
        "date": values.as_context()["date"],
        "hotline": values.hotline,
        "token": token,
    }


def _page(token: str) -> PublicPage:
    page = advisory_reach.find_page(get_db(), token)
    if page is None or not (page.published or page.withdrawn):
        abort(404)
    return page


def _client() -> tuple[str, str]:
    return request.remote_addr or "", request.user_agent.string or ""


@bp.route("/a/<token>")
def page(token: str) -> ResponseReturnValue:
    db, settings, now = get_db(), runtime().settings, now_utc()
    found = _page(token)
    if found.withdrawn:
        return render_template("public/advisory_withdrawn.html"), 410
    ip, agent = _client()
    advisory_reach.record_visit(db, settings, found, ReachKind.OPEN, ip=ip, user_agent=agent, now=now)
    context = page_context(db, settings, found.advisory, token, now)
    db.commit()
    cover = url_for(".cover", token=token) if found.advisory.cover_type else ""
    response = Response(
        render_template("public/advisory.html", **context, cover=cover, shared="shared" in request.args)
    )
    response.headers["Cache-Control"] = "no-store"  # every open reaches us, so it can be counted
    return response


@bp.route("/a/<token>/share", methods=["POST"])
def share(token: str) -> ResponseReturnValue:
    db = get_db()
    found = _page(token)
    if found.published:
        ip, agent = _client()
        advisory_reach.record_visit(
            db, runtime().settings, found, ReachKind.SHARE, ip=ip, user_agent=agent, now=now_utc()
        )
        db.commit()
    return redirect(url_for(".page", token=token, shared=1), code=303)


@bp.route("/a/<token>/cover")
def cover(token: str) -> ResponseReturnValue:
    advisory = _page(token).advisory
    if not advisory.cover_type or advisory.cover_image is None:
        abort(404)
    response = Response(advisory.cover_image, mimetype=advisory.cover_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def init_app(app: Flask) -> None:
    csrf.exempt(share)
    app.register_blueprint(bp)
