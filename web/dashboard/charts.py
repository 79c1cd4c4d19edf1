"""The dashboard's chart data: plain JSON (embedded in the page) that dashboard.js draws with ECharts.

Every data point carries the link to the list behind it; the script navigates there on click.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import current_app, url_for

from bot.services.labels import label
from bot.services.linelists import ALL_ANSWERED
from bot.services.stats import AreaFigures, DayFigures, LeadFigures, TipFigures
from web.linelists import list_url


def area_url(endpoint: str, **params: Any) -> str | None:
    """A link into another area of the panel, if that area is installed."""
    return url_for(endpoint, **params) if endpoint in current_app.view_functions else None


def trend(days: Sequence[DayFigures]) -> dict[str, Any]:
    return {
        "days": [d.day.strftime("%m-%d") for d in days],
        "rate": [round(100 * d.rate, 1) for d in days],
        "abnormal": [d.abnormal for d in days],
        "links": [list_url("checkins", day=d.day.isoformat()) for d in days],
        "abnormal_links": [list_url("abnormal", day=d.day.isoformat()) for d in days],
    }


def townships(rows: Sequence[AreaFigures], day: date) -> dict[str, Any]:
    iso = day.isoformat()
    return {
        "names": [r.name for r in rows],
        "answered": [r.answered for r in rows],
        "not_answered": [r.non_responders for r in rows],
        "answered_links": [
            list_url("checkins", day=iso, township_id=r.id, status=ALL_ANSWERED) for r in rows
        ],
        "not_answered_links": [list_url("non_responders", day=iso, township_id=r.id) for r in rows],
    }


def leads(figures: LeadFigures) -> dict[str, Any]:
    return {
        "items": [
            {"name": label("lead_status", status), "value": n, "link": list_url("leads", status=status)}
            for status, n in figures.by_status.items()
        ]
    }


def tips(figures: TipFigures) -> dict[str, Any]:
    return {
        "items": [
            {"name": label("cluster_status", s), "value": n, "link": area_url("tips.queue", status=s)}
            for s, n in figures.clusters_by_status.items()
        ]
    }
