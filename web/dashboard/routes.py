"""The dashboard page: each section only for the roles that may see it, figures in their scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from bot.clock import local_today
from bot.services import linelists, stats
from bot.services.permissions import Permission
from web.dashboard import bp, charts
from web.db import get_db, runtime
from web.roles import can, my_scope, require


def _day(today: date) -> date:
    """?day=YYYY-MM-DD shows an earlier day; anything else (or a future day) shows today."""
    try:
        chosen = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return today
    return min(chosen, today)


def _checkin_section(day: date) -> dict[str, Any]:
    db, scope = get_db(), my_scope()
    stations = stats.by_station(db, scope, day)
    townships = stats.by_township(stations)
    return {
        "stations": stations,
        "townships": townships,
        "total": stats.totals(stations),
        "trend": stats.checkin_trend(db, scope, day),
    }


@bp.route("/")
@require(Permission.VIEW_DASHBOARD)
def index() -> ResponseReturnValue:
    settings = runtime().settings
    today = local_today(settings.tz)
    day = _day(today)
    db = get_db()
    context: dict[str, Any] = {"day": day, "today": today, "is_today": day == today}
    chart_data: dict[str, Any] = {}
    if can(Permission.VIEW_RESIDENTS):
        section = _checkin_section(day)
        context.update(section)
        chart_data["trend"] = charts.trend(section["trend"])
        chart_data["townships"] = charts.townships(section["townships"], day)
    if can(Permission.VIEW_LEADS):
        context["leads"] = stats.lead_figures(db, my_scope(), day)
        context["names"] = linelists.jurisdiction_names(db)
        chart_data["leads"] = charts.leads(context["leads"])
    if can(Permission.REVIEW_TIPS):
        context["tips"] = stats.tip_figures(db, day, settings.tz)
        chart_data["tips"] = charts.tips(context["tips"])
    if can(Permission.VIEW_ADVISORIES):
        context["advisories"] = stats.advisory_figures(db)
    return render_template("dashboard/index.html", charts=chart_data, area_url=charts.area_url, **context)
