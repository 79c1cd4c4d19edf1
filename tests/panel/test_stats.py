"""Dashboard figures: per station, summed per township and in total, scoped, and the 14-day trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.models import (
    Advisory,
    AdvisoryStatus,
    CheckinStatus,
    ClusterStatus,
    Delivery,
    Health,
    LeadStatus,
    ReachEvent,
    ReachKind,
    ResidentStatus,
    Tip,
    TipChannel,
    TipCluster,
)
from bot.services import stats
from bot.services.scope import COUNTY, Scope
from tests.factories import (
    make_checkin,
    make_group,
    make_identity,
    make_lead,
    make_resident,
    make_station,
    make_visit,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 2, 15)
DAY_UTC = datetime(2020, 2, 15, 4, 0, tzinfo=UTC)


def _county_with_two_townships(db: Session) -> dict[str, Any]:
    north = make_station(db, "北一派出所", "北镇")
    north2 = make_station(db, "北二派出所", "北镇")
    south = make_station(db, "南派出所", "南乡")
    people = {
        "a": make_resident(db, north),
        "b": make_resident(db, north),
        "c": make_resident(db, north2),
        "d": make_resident(db, south),
        "back": make_resident(
            db,
            south,
            status=ResidentStatus.MONITORING,
            returned_on=DAY,
            monitoring_start=DAY,
            monitoring_end=DAY + timedelta(days=2),
        ),
    }
    make_checkin(db, people["a"], DAY, status=CheckinStatus.ANSWERED, health=Health.NORMAL)
    make_checkin(db, people["b"], DAY, status=CheckinStatus.ANSWERED, health=Health.FEVER, abnormal=True)
    make_checkin(db, people["c"], DAY, status=CheckinStatus.PHONE_LIST, phone_list_reason="silent")
    make_checkin(db, people["d"], DAY, status=CheckinStatus.REACHED_BY_PHONE)
    make_checkin(db, people["a"], DAY - timedelta(days=1), status=CheckinStatus.NOT_REACHED)
    make_visit(db, people["a"], DAY)
    make_visit(db, people["a"], DAY)  # twice the same day: one resident visited
    make_visit(db, people["d"], DAY)
    make_visit(db, people["c"], DAY - timedelta(days=3))
    make_identity(db, people["a"])
    make_identity(db, people["d"])
    return {"north": north, "north2": north2, "south": south, **people}


def test_by_station_counts_each_figure(db: Session) -> None:
    w = _county_with_two_townships(db)
    rows = {r.name: r for r in stats.by_station(db, COUNTY, DAY)}
    a = rows["北一派出所"]
    assert (a.residents, a.bound, a.expected, a.answered, a.abnormal) == (2, 1, 2, 2, 1)
    assert (a.visited_today, a.visited_total, a.non_responders, a.rate) == (1, 1, 0, 1.0)
    b = rows["北二派出所"]
    assert (b.expected, b.answered, b.phone_list, b.visited_today, b.visited_total) == (1, 0, 1, 0, 1)
    s = rows["南派出所"]
    assert (s.residents, s.expected, s.answered, s.monitoring, s.returned_today, s.ending_soon) == (
        2,
        1,
        1,
        1,
        1,
        1,
    )
    assert a.township == "北镇" and a.township_id == w["north"].parent_id


def test_townships_and_totals_are_sums_of_stations(db: Session) -> None:
    _county_with_two_townships(db)
    stations = stats.by_station(db, COUNTY, DAY)
    towns = {t.name: t for t in stats.by_township(stations)}
    assert towns["北镇"].residents == 3 and towns["北镇"].expected == 3 and towns["北镇"].answered == 2
    total = stats.totals(stations)
    assert total.residents == sum(t.residents for t in towns.values())
    assert (total.expected, total.answered, total.abnormal, total.phone_list) == (4, 3, 1, 1)
    assert total.unbound == total.residents - 2
    overview = stats.overview(db, COUNTY, DAY)
    assert (overview.checkins_today, overview.answered_today, overview.abnormal_today) == (4, 3, 1)


def test_a_station_scope_sees_only_its_station(db: Session) -> None:
    w = _county_with_two_townships(db)
    scope = Scope(frozenset({w["north"].id}))
    rows = stats.by_station(db, scope, DAY)
    assert [r.name for r in rows] == ["北一派出所"]
    assert stats.totals(rows).expected == 2
    trend = stats.checkin_trend(db, scope, DAY, days=3)
    assert [d.expected for d in trend] == [0, 1, 2]


def test_trend_has_one_entry_per_day_with_rates(db: Session) -> None:
    _county_with_two_townships(db)
    trend = stats.checkin_trend(db, COUNTY, DAY)
    assert len(trend) == stats.TREND_DAYS and trend[-1].day == DAY
    assert trend[0].day == DAY - timedelta(days=13) and trend[0].rate == 0.0
    assert (trend[-2].expected, trend[-2].answered, trend[-2].rate) == (1, 0, 0.0)
    assert (trend[-1].expected, trend[-1].answered, trend[-1].abnormal) == (4, 3, 1)
    assert trend[-1].rate == 0.75


def test_lead_figures_by_status_outcome_station_and_overdue(db: Session) -> None:
    north, south = make_station(db), make_station(db)
    make_lead(db, north, due_date=DAY - timedelta(days=1))  # open, overdue
    make_lead(db, north, status=LeadStatus.IN_PROGRESS, due_date=DAY)  # due today: not overdue
    make_lead(db, south, status=LeadStatus.DONE, outcome="已电话核实", due_date=DAY - timedelta(days=5))
    make_lead(db, south, status=LeadStatus.DONE, outcome="已电话核实")
    figures = stats.lead_figures(db, COUNTY, DAY)
    assert figures.by_status == {"open": 1, "in_progress": 1, "done": 2} and figures.total == 4
    assert figures.by_outcome == {"已电话核实": 2}
    assert figures.overdue == 1
    assert figures.by_station[north.id] == {"open": 1, "in_progress": 1, "overdue": 1}
    scoped = stats.lead_figures(db, Scope(frozenset({south.id})), DAY)
    assert scoped.total == 2 and scoped.overdue == 0 and set(scoped.by_station) == {south.id}


def test_tip_figures_count_today_in_local_time(db: Session) -> None:
    cluster = TipCluster(summary="谣言", status=ClusterStatus.RUMOR)
    db.add_all([cluster, TipCluster(summary="待审", status=ClusterStatus.PENDING)])
    db.flush()
    # 23:30 local on the 14th is still "yesterday"; 00:30 local on the 15th is "today".
    for n, at in enumerate(
        (datetime(2020, 2, 14, 15, 30, tzinfo=UTC), datetime(2020, 2, 14, 16, 30, tzinfo=UTC))
    ):
        db.add(
            Tip(
                ticket=f"T-{n}",
                channel=TipChannel.FORM,
                reporter_hash="x",
                cluster_id=cluster.id,
                created_at=at,
            )
        )
    db.flush()
    figures = stats.tip_figures(db, DAY, TZ)
    assert figures.tips_total == 2 and figures.tips_today == 1
    assert figures.clusters_by_status["rumor"] == 1 and figures.clusters_by_status["pending"] == 1
    assert figures.clusters_by_status["dismissed"] == 0


def test_advisory_figures_count_sent_deliveries_and_forwards(db: Session) -> None:
    group, manual = make_group(db), make_group(db, "manual")
    sent = Advisory(title="倡议书", body="正文", public_token="tok-sent", status=AdvisoryStatus.SENT)
    draft = Advisory(title="草稿", body="正文", public_token="tok-draft")
    db.add_all([sent, draft])
    db.flush()
    db.add_all(
        [
            Delivery(advisory_id=sent.id, group_id=group.id, share_token="s1"),
            Delivery(
                advisory_id=sent.id, group_id=manual.id, share_token="s2", forwarded_at=datetime.now(UTC)
            ),
            *(
                ReachEvent(advisory_id=sent.id, kind=kind, dedupe_key=f"panel-{n}")
                for n, kind in enumerate((ReachKind.SHARE, ReachKind.SHARE, ReachKind.OPEN))
            ),
        ]
    )
    db.flush()
    figures = stats.advisory_figures(db)
    assert (figures.sent, figures.deliveries, figures.forwarded, figures.shares, figures.opens) == (
        1,
        2,
        1,
        2,
        1,
    )
    assert figures.forwards == 3
