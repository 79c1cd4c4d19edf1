"""Figures for the dashboard and the daily report, always within the viewer's scope.

Every function is a handful of GROUP BY queries on indexed columns (check-ins carry their
station, so no join is needed to count them by station); totals are summed in Python from
the per-station rows, so a station's line and the county's total can never disagree.
Signatures are ``(db, scope, day) -> dataclass`` so the daily report can reuse them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.clock import local_datetime
from bot.models import (
    Advisory,
    AdvisoryStatus,
    Checkin,
    CheckinStatus,
    ClusterStatus,
    Delivery,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    LeadStatus,
    ReachEvent,
    ReachKind,
    Resident,
    ResidentStatus,
    Tip,
    TipCluster,
    Visit,
    WeChatIdentity,
)
from bot.services.scope import Scope

ANSWERED = (CheckinStatus.ANSWERED, CheckinStatus.REACHED_BY_PHONE)
TREND_DAYS = 14
ENDING_SOON_DAYS = 3  # "monitoring ending soon": ends within this many days from today


@dataclass(frozen=True)
class Overview:
    residents: int
    bound: int
    checkins_today: int
    answered_today: int
    abnormal_today: int
    phone_list_today: int


def overview(db: Session, scope: Scope, day: date) -> Overview:
    """The headline counts (kept for callers that need only these)."""
    total = totals(by_station(db, scope, day))
    return Overview(
        total.residents, total.bound, total.expected, total.answered, total.abnormal, total.phone_list
    )


# --- check-ins by station -------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaFigures:
    """One station's (or township's, or the scope's) figures for a day."""

    id: int | None
    name: str
    township_id: int | None = None
    township: str = ""
    residents: int = 0  # the registry: every resident registered at the station
    bound: int = 0  # residents with a bound WeChat identity
    expected: int = 0  # check-ins due that day
    answered: int = 0  # answered on WeChat/H5 or reached by phone
    abnormal: int = 0
    phone_list: int = 0  # waiting for a call
    not_reached: int = 0  # called, nobody answered
    visited_today: int = 0  # distinct residents with a visit that day
    visited_total: int = 0  # distinct residents with any visit, ever (target: ``residents``)
    returned_today: int = 0
    monitoring: int = 0  # returned and under observation
    ending_soon: int = 0  # observation ends within ENDING_SOON_DAYS

    @property
    def non_responders(self) -> int:
        return self.expected - self.answered

    @property
    def rate(self) -> float:
        """Share of the day's check-ins answered, 0..1."""
        return self.answered / self.expected if self.expected else 0.0

    @property
    def unbound(self) -> int:
        return self.residents - self.bound


_COUNTED = (
    "residents",
    "bound",
    "expected",
    "answered",
    "abnormal",
    "phone_list",
    "not_reached",
    "visited_today",
    "visited_total",
    "returned_today",
    "monitoring",
    "ending_soon",
)


def _stations(db: Session, scope: Scope) -> list[tuple[Jurisdiction, Jurisdiction | None]]:
    township = aliased(Jurisdiction)
    stmt = scope.filter(
        select(Jurisdiction, township)
        .outerjoin(township, Jurisdiction.parent_id == township.id)
        .where(Jurisdiction.kind == JurisdictionKind.STATION)
        .order_by(township.code, Jurisdiction.code),
        Jurisdiction.id,
    )
    return [(station, town) for station, town in db.execute(stmt)]


def _residents_by_station(db: Session, scope: Scope, day: date) -> dict[int, Counter[str]]:
    # Three small queries, each served by an index, rather than one scan of the residents' rows.
    by_status = scope.filter(
        select(Resident.station_id, Resident.status, func.count()).group_by(
            Resident.station_id, Resident.status
        ),
        Resident.station_id,
    )
    returned = scope.filter(
        select(Resident.station_id, func.count())
        .where(Resident.returned_on == day)
        .group_by(Resident.station_id),
        Resident.station_id,
    )
    ending = scope.filter(
        select(Resident.station_id, func.count())
        .where(
            Resident.monitoring_end <= day + timedelta(days=ENDING_SOON_DAYS),
            Resident.status == ResidentStatus.MONITORING,
        )
        .group_by(Resident.station_id),
        Resident.station_id,
    )
    out: dict[int, Counter[str]] = {}
    for station_id, status, n in db.execute(by_status):
        counts = out.setdefault(station_id, Counter())
        counts["residents"] += n
        counts["monitoring"] += n if status == ResidentStatus.MONITORING else 0
    for key, stmt in (("returned_today", returned), ("ending_soon", ending)):
        for station_id, n in db.execute(stmt):
            out.setdefault(station_id, Counter())[key] = n
    return out


def _bound_by_station(db: Session, scope: Scope) -> dict[int, int]:
    stmt = scope.filter(
        select(Resident.station_id, func.count())
        .join(WeChatIdentity, WeChatIdentity.resident_id == Resident.id)
        .group_by(Resident.station_id),
        Resident.station_id,
    )
    return dict(db.execute(stmt).all())


def _tally(counts: Counter[str], status: CheckinStatus, abnormal: bool, n: int) -> None:
    """Count ``n`` check-ins of one status: what is expected, answered, abnormal or left for a call."""
    counts["expected"] += n
    counts["answered"] += n if status in ANSWERED else 0
    counts["abnormal"] += n if abnormal else 0
    counts["phone_list"] += n if status == CheckinStatus.PHONE_LIST else 0
    counts["not_reached"] += n if status == CheckinStatus.NOT_REACHED else 0


def _checkins_by_station(db: Session, scope: Scope, day: date) -> dict[int, Counter[str]]:
    stmt = scope.filter(
        select(Checkin.station_id, Checkin.status, Checkin.abnormal, func.count())
        .where(Checkin.day == day)
        .group_by(Checkin.station_id, Checkin.status, Checkin.abnormal),
        Checkin.station_id,
    )
    out: dict[int, Counter[str]] = {}
    for station_id, status, abnormal, n in db.execute(stmt):
        _tally(out.setdefault(station_id, Counter()), status, abnormal, n)
    return out


def _visits_by_station(db: Session, scope: Scope, day: date) -> dict[int, Counter[str]]:
    today = scope.filter(
        select(Visit.station_id, func.count(func.distinct(Visit.resident_id)))
        .where(Visit.day == day)
        .group_by(Visit.station_id),
        Visit.station_id,
    )
    # Counted per resident (an EXISTS probe on ix_visits_resident_id), not by DISTINCT over visits.
    ever = scope.filter(
        select(Resident.station_id, func.count())
        .where(exists().where(Visit.resident_id == Resident.id))
        .group_by(Resident.station_id),
        Resident.station_id,
    )
    out: dict[int, Counter[str]] = {}
    for station_id, n in db.execute(today):
        out.setdefault(station_id, Counter())["visited_today"] = n
    for station_id, n in db.execute(ever):
        out.setdefault(station_id, Counter())["visited_total"] = n
    return out


def by_station(db: Session, scope: Scope, day: date) -> list[AreaFigures]:
    """Every station in scope (also those with no residents), in township then station order."""
    parts = (
        _residents_by_station(db, scope, day),
        _checkins_by_station(db, scope, day),
        _visits_by_station(db, scope, day),
    )
    bound = _bound_by_station(db, scope)
    rows = []
    for station, town in _stations(db, scope):
        counts: Counter[str] = Counter(bound=bound.get(station.id, 0))
        for part in parts:
            counts.update(part.get(station.id, Counter()))
        base = AreaFigures(station.id, station.name, town.id if town else None, town.name if town else "")
        rows.append(_with_counts(base, counts))
    return rows


def _with_counts(base: AreaFigures, counts: Counter[str]) -> AreaFigures:
    changes: dict[str, Any] = {name: counts[name] for name in _COUNTED}
    return replace(base, **changes)


def _summed(rows: Iterable[AreaFigures], base: AreaFigures) -> AreaFigures:
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update({name: getattr(row, name) for name in _COUNTED})
    return _with_counts(base, counts)


def by_township(stations: Sequence[AreaFigures]) -> list[AreaFigures]:
    """The station rows summed per township, in the stations' order."""
    groups: dict[int | None, list[AreaFigures]] = {}
    for row in stations:
        groups.setdefault(row.township_id, []).append(row)
    return [_summed(rows, AreaFigures(key, rows[0].township)) for key, rows in groups.items()]


def totals(stations: Sequence[AreaFigures]) -> AreaFigures:
    return _summed(stations, AreaFigures(None, "合计"))


# --- the trend ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    day: date
    expected: int
    answered: int
    abnormal: int

    @property
    def rate(self) -> float:
        return self.answered / self.expected if self.expected else 0.0


def checkin_trend(db: Session, scope: Scope, day: date, days: int = TREND_DAYS) -> list[DayFigures]:
    """One entry per day for the ``days`` days ending on ``day`` (days without check-ins count 0)."""
    first = day - timedelta(days=days - 1)
    stmt = scope.filter(
        select(Checkin.day, Checkin.status, Checkin.abnormal, func.count())
        .where(Checkin.day.between(first, day))
        .group_by(Checkin.day, Checkin.status, Checkin.abnormal),
        Checkin.station_id,
    )
    counts: dict[date, Counter[str]] = {}
    for d, status, abnormal, n in db.execute(stmt):
        _tally(counts.setdefault(d, Counter()), status, abnormal, n)
    out = []
    for offset in range(days):
        d = first + timedelta(days=offset)
        c = counts.get(d, Counter())
        out.append(DayFigures(d, c["expected"], c["answered"], c["abnormal"]))
    return out


# --- leads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFigures:
    by_status: dict[str, int]
    by_outcome: dict[str, int]  # of closed leads
    by_station: dict[int, dict[str, int]]  # station id -> status -> count, plus "overdue"
    overdue: int  # not done, due before the day

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def overdue_condition(day: date) -> ColumnElement[bool]:
    """A lead is overdue when it is not done and its due date is before ``day``."""
    return and_(Lead.status != LeadStatus.DONE, Lead.due_date < day)


def lead_figures(db: Session, scope: Scope, day: date) -> LeadFigures:
    is_overdue = case((overdue_condition(day), 1), else_=0)
    stmt = scope.filter(
        select(Lead.station_id, Lead.status, Lead.outcome, is_overdue, func.count()).group_by(
            Lead.station_id, Lead.status, Lead.outcome, is_overdue
        ),
        Lead.station_id,
    )
    by_status: Counter[str] = Counter({s.value: 0 for s in LeadStatus})
    by_outcome: Counter[str] = Counter()
    by_station: dict[int, Counter[str]] = {}
    overdue = 0
    for station_id, status, outcome, late, n in db.execute(stmt):
        by_status[status.value] += n
        station = by_station.setdefault(station_id, Counter())
        station[status.value] += n
        if outcome:
            by_outcome[outcome] += n
        if late:
            station["overdue"] += n
            overdue += n
    return LeadFigures(
        dict(by_status),
        dict(by_outcome.most_common()),
        {sid: dict(c) for sid, c in by_station.items()},
        overdue,
    )


# --- tips and advisories (county-wide: neither belongs to a station) -------------------------------


@dataclass(frozen=True)
class TipFigures:
    clusters_by_status: dict[str, int]
    tips_total: int
    tips_today: int


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_datetime(day, time(0), tz), local_datetime(day + timedelta(days=1), time(0), tz)


def tip_figures(db: Session, day: date, tz: ZoneInfo) -> TipFigures:
    by_status: Counter[str] = Counter({s.value: 0 for s in ClusterStatus})
    for status, n in db.execute(select(TipCluster.status, func.count()).group_by(TipCluster.status)):
        by_status[status.value] += n
    start, end = _day_bounds(day, tz)
    total = db.scalar(select(func.count(Tip.id))) or 0
    today = db.scalar(select(func.count(Tip.id)).where(Tip.created_at >= start, Tip.created_at < end)) or 0
    return TipFigures(dict(by_status), total, today)


@dataclass(frozen=True)
class AdvisoryFigures:
    sent: int  # advisories whose sending started (sending or sent)
    deliveries: int  # group deliveries of those advisories
    forwarded: int  # manual-forwarding tasks done
    shares: int  # shares counted on the public page
    opens: int

    @property
    def forwards(self) -> int:
        """The figure the bureau reports as 转发: manual forwards plus readers' shares."""
        return self.forwarded + self.shares


def advisory_figures(db: Session) -> AdvisoryFigures:
    started = Advisory.status.in_((AdvisoryStatus.SENDING, AdvisoryStatus.SENT))
    sent = db.scalar(select(func.count(Advisory.id)).where(started)) or 0
    deliveries = db.scalar(select(func.count(Delivery.id)).join(Advisory).where(started)) or 0
    forwarded = db.scalar(select(func.count(Delivery.id)).where(Delivery.forwarded_at.is_not(None))) or 0
    reach = dict(db.execute(select(ReachEvent.kind, func.count()).group_by(ReachEvent.kind)).all())
    return AdvisoryFigures(
        sent, deliveries, forwarded, reach.get(ReachKind.SHARE, 0), reach.get(ReachKind.OPEN, 0)
    )
