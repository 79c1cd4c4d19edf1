"""The daily report's figures: one JSON-ready dict, computed county-wide for one local day.

The dashboard's queries (``bot.services.stats``) give the per-station counts, so the report
and the dashboard can never disagree; this module adds what only the report shows: the
split of answers by channel, abnormal cases by kind and by name (masked), today's advisory
reach, leads by station with their outcomes, and the list of overdue leads. The result is
stored on the report, so an approved report keeps the figures it was signed with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from bot.clock import local_datetime
from bot.models import (
    Advisory,
    Checkin,
    CheckinStatus,
    Delivery,
    Health,
    Lead,
    OutboxMessage,
    OutboxStatus,
    ReachEvent,
    ReachKind,
    Resident,
    TipCluster,
)
from bot.privacy import mask_name
from bot.services import linelists, stats
from bot.services.scope import COUNTY

FIGURES_VERSION = 1
ABNORMAL_KINDS = ("fever", "symptoms", "treated", "abnormal_other")
_KIND_OF_HEALTH = {Health.FEVER: "fever", Health.SYMPTOMS: "symptoms", Health.TREATED: "treated"}
# Counts carried by every area row (station, township, total); rates are derived after summing.
AREA_COUNTS = (
    "residents",
    "bound",
    "expected",
    "prompted",
    "answered",
    "answered_online",
    "phone_reached",
    "phone_list",
    "not_reached",
    "abnormal",
    *ABNORMAL_KINDS,
    "visited_today",
    "visited_total",
    "monitoring",
    "returned_today",
)
LEAD_COUNTS = ("created_today", "open", "in_progress", "done", "done_today", "overdue")


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day as a half-open UTC interval."""
    return local_datetime(day, time(0), tz), local_datetime(day + timedelta(days=1), time(0), tz)


def compute(db: Session, day: date, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Every figure of the day's report, as plain JSON values."""
    bounds = day_bounds(day, tz)
    names = linelists.jurisdiction_names(db)
    stations = _area_rows(db, day)
    return {
        "version": FIGURES_VERSION,
        "day": day.isoformat(),
        "generated_at": now.isoformat(),
        "stations": stations,
        "townships": _townships(stations),
        "total": _finish(_summed(stations, {"name": "合计", "township": ""})),
        "abnormal_cases": _abnormal_cases(db, day, names),
        "advisories": _advisories(db, bounds),
        "tips": _tips(db, day, tz, bounds),
        "leads": _leads(db, day, bounds, names, order={row["id"]: i for i, row in enumerate(stations)}),
        "overdue_leads": _overdue_leads(db, day, names),
    }


# --- check-ins and visits by area -----------------------------------------------------------------


def _area_rows(db: Session, day: date) -> list[dict[str, Any]]:
    extra = _checkin_breakdown(db, day)
    rows = []
    for area in stats.by_station(db, COUNTY, day):
        counts = dict.fromkeys(AREA_COUNTS, 0)
        counts.update({key: value for key, value in asdict(area).items() if key in AREA_COUNTS})
        counts.update(extra.get(area.id or 0, Counter()))
        counts["answered_online"] = counts["answered"] - counts.get("phone_reached", 0)
        row = {"id": area.id, "name": area.name, "township_id": area.township_id, "township": area.township}
        rows.append(_finish({**row, **counts}))
    return rows


def _checkin_breakdown(db: Session, day: date) -> dict[int, Counter[str]]:
    """What the dashboard does not split: prompts, answers by phone, abnormal cases by kind."""
    prompted = func.count(case((Checkin.prompted_at.is_not(None), 1)))
    stmt = (
        select(Checkin.station_id, Checkin.status, Checkin.health, Checkin.abnormal, func.count(), prompted)
        .where(Checkin.day == day)
        .group_by(Checkin.station_id, Checkin.status, Checkin.health, Checkin.abnormal)
    )
    out: dict[int, Counter[str]] = {}
    for station_id, status, health, abnormal, n, n_prompted in db.execute(stmt):
        counts = out.setdefault(station_id, Counter())
        counts["prompted"] += n_prompted
        counts["phone_reached"] += n if status == CheckinStatus.REACHED_BY_PHONE else 0
        if abnormal:
            counts[abnormal_kind(health)] += n
    return out


def abnormal_kind(health: Health | None) -> str:
    return _KIND_OF_HEALTH.get(health, "abnormal_other") if health is not None else "abnormal_other"


def _summed(rows: Iterable[dict[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update({key: row.get(key, 0) for key in AREA_COUNTS})
    return {**base, **{key: counts[key] for key in AREA_COUNTS}}


def _townships(stations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[int | None, list[dict[str, Any]]] = {}
    for row in stations:
        groups.setdefault(row["township_id"], []).append(row)
    return [
        _finish(_summed(rows, {"id": key, "name": rows[0]["township"], "township": ""}))
        for key, rows in groups.items()
    ]


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Add the derived rates (0..1, four decimals) to a summed row."""
    row["rate"] = _ratio(row["answered"], row["expected"])
    row["visit_target"] = row["residents"]
    row["visit_rate"] = _ratio(row["visited_total"], row["residents"])
    return row


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _abnormal_cases(db: Session, day: date, names: dict[int, str]) -> list[dict[str, Any]]:
    stmt = (
        select(Checkin, Resident)
        .join(Resident, Checkin.resident_id == Resident.id)
        .where(Checkin.day == day, Checkin.abnormal)
        .order_by(Resident.township_id, Checkin.station_id, Resident.id)
    )
    return [
        {
            "resident_id": resident.id,
            "name": mask_name(resident.name),
            "township": names.get(resident.township_id, ""),
            "station": names.get(checkin.station_id, ""),
            "kind": abnormal_kind(checkin.health),
            "temperature": None if checkin.temperature is None else float(checkin.temperature),
            "city": checkin.whereabouts_city or resident.current_city,
            "status": checkin.status.value,
        }
        for checkin, resident in db.execute(stmt)
    ]


# --- advisories and tips (county-wide) ------------------------------------------------------------


def _within(column: Any, bounds: tuple[datetime, datetime]) -> ColumnElement[bool]:
    return and_(column.is_not(None), column >= bounds[0], column < bounds[1])


def _advisories(db: Session, bounds: tuple[datetime, datetime]) -> dict[str, Any]:
    reach_today = dict(
        db.execute(
            select(ReachEvent.kind, func.count())
            .where(_within(ReachEvent.at, bounds))
            .group_by(ReachEvent.kind)
        ).all()
    )
    forwarded_today = db.scalar(select(func.count(Delivery.id)).where(_within(Delivery.forwarded_at, bounds)))
    started_today = list(
        db.scalars(select(Advisory).where(_within(Advisory.started_at, bounds)).order_by(Advisory.started_at))
    )
    items = [_advisory_item(db, advisory) for advisory in started_today]
    overall = stats.advisory_figures(db)
    return {
        "sent_today": len(items),
        "groups_today": sum(item["groups"] for item in items),
        "forwarded_today": forwarded_today or 0,
        "opens_today": reach_today.get(ReachKind.OPEN, 0),
        "shares_today": reach_today.get(ReachKind.SHARE, 0),
        "sent_total": overall.sent,
        "groups_total": overall.deliveries,
        "forwards_total": overall.forwards,
        "opens_total": overall.opens,
        "items": items,
    }


def _advisory_item(db: Session, advisory: Advisory) -> dict[str, Any]:
    sent = func.count(case((OutboxMessage.status == OutboxStatus.SENT, 1)))
    failed = func.count(case((OutboxMessage.status == OutboxStatus.FAILED, 1)))
    forwarded = func.count(Delivery.forwarded_at)
    groups, delivered, failures, forwards = db.execute(
        select(func.count(Delivery.id), sent, failed, forwarded)
        .outerjoin(OutboxMessage, Delivery.outbox_id == OutboxMessage.id)
        .where(Delivery.advisory_id == advisory.id)
    ).one()
    reach = dict(
        db.execute(
            select(ReachEvent.kind, func.count())
            .where(ReachEvent.advisory_id == advisory.id)
            .group_by(ReachEvent.kind)
        ).all()
    )
    started = advisory.started_at.isoformat() if advisory.started_at else None
    return {
        "id": advisory.id,
        "title": advisory.title,
        "started_at": started,
        "groups": groups,
        "delivered": delivered,
        "failed": failures,
        "forwarded": forwards,
        "opens": reach.get(ReachKind.OPEN, 0),
        "shares": reach.get(ReachKind.SHARE, 0),
    }


def _tips(db: Session, day: date, tz: ZoneInfo, bounds: tuple[datetime, datetime]) -> dict[str, Any]:
    figures = stats.tip_figures(db, day, tz)
    new_clusters = db.scalar(select(func.count(TipCluster.id)).where(_within(TipCluster.first_seen, bounds)))
    return {
        "received_today": figures.tips_today,
        "received_total": figures.tips_total,
        "new_clusters_today": new_clusters or 0,
        "clusters_by_status": figures.clusters_by_status,
    }


# --- leads ----------------------------------------------------------------------------------------


def _leads(
    db: Session, day: date, bounds: tuple[datetime, datetime], names: dict[int, str], order: dict[int, int]
) -> dict[str, Any]:
    figures = stats.lead_figures(db, COUNTY, day)
    created = func.count(case((_within(Lead.created_at, bounds), 1)))
    closed = func.count(case((_within(Lead.closed_at, bounds), 1)))
    today = {
        sid: (c, d)
        for sid, c, d in db.execute(select(Lead.station_id, created, closed).group_by(Lead.station_id))
    }
    outcomes: dict[int, Counter[str]] = {}
    for sid, outcome, n in db.execute(
        select(Lead.station_id, Lead.outcome, func.count())
        .where(Lead.outcome != "")
        .group_by(Lead.station_id, Lead.outcome)
    ):
        outcomes.setdefault(sid, Counter())[outcome] = n
    rows: list[dict[str, Any]] = []
    for sid, by_status in sorted(figures.by_station.items(), key=lambda item: order.get(item[0], len(order))):
        created_today, done_today = today.get(sid, (0, 0))
        rows.append(
            {
                "station": names.get(sid, ""),
                "created_today": created_today,
                "open": by_status.get("open", 0),
                "in_progress": by_status.get("in_progress", 0),
                "done": by_status.get("done", 0),
                "done_today": done_today,
                "overdue": by_status.get("overdue", 0),
                "outcomes": dict(outcomes.get(sid, Counter()).most_common()),
            }
        )
    total = {key: sum(row[key] for row in rows) for key in LEAD_COUNTS}
    by_source = dict(db.execute(select(Lead.source, func.count()).group_by(Lead.source)).all())
    return {
        "stations": rows,
        "total": {"station": "合计", **total, "outcomes": figures.by_outcome},
        "by_source": {source.value: n for source, n in by_source.items()},
    }


def _overdue_leads(db: Session, day: date, names: dict[int, str]) -> list[dict[str, Any]]:
    stmt = (
        select(Lead, Resident.name)
        .outerjoin(Resident, Lead.resident_id == Resident.id)
        .where(stats.overdue_condition(day))
        .order_by(Lead.due_date, Lead.id)
    )
    return [
        {
            "id": lead.id,
            "station": names.get(lead.station_id, ""),
            "source": lead.source.value,
            "priority": lead.priority.value,
            "status": lead.status.value,
            "resident": mask_name(name),
            "due_date": lead.due_date.isoformat() if lead.due_date else None,
            "days_overdue": (day - lead.due_date).days if lead.due_date else 0,
        }
        for lead, name in db.execute(stmt)
    ]
