"""The daily report's figures, computed from real rows (two townships, three kinds of contact)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from bot.services import report_figures
from bot.services.report_layout import TABLES, headlines
from tests.reports.scenario import DAY, NOW, TZ, build


def _by_name(rows: list[dict], name: str) -> dict:
    return next(row for row in rows if row["name"] == name)


def test_counts_by_station_township_and_total(db: Session) -> None:
    build(db)
    figures = report_figures.compute(db, DAY, TZ, NOW)
    north = _by_name(figures["stations"], "北城派出所")
    assert north["township"] == "北城镇"
    assert {k: north[k] for k in ("residents", "bound", "expected", "prompted", "answered")} == {
        "residents": 5,
        "bound": 4,
        "expected": 5,
        "prompted": 4,
        "answered": 4,
    }
    assert (north["answered_online"], north["phone_reached"], north["phone_list"]) == (3, 1, 1)
    assert (north["abnormal"], north["fever"], north["symptoms"], north["treated"]) == (2, 1, 1, 0)
    assert north["rate"] == 0.8
    assert (north["visited_today"], north["visited_total"], north["visit_target"]) == (1, 1, 5)
    south = _by_name(figures["stations"], "南湖派出所")
    assert (south["expected"], south["answered"], south["not_reached"], south["visited_total"]) == (
        2,
        1,
        1,
        1,
    )
    assert _by_name(figures["townships"], "南湖乡")["residents"] == south["residents"] == 4
    total = figures["total"]
    assert (total["residents"], total["expected"], total["answered"], total["abnormal"]) == (9, 7, 5, 2)
    assert total["rate"] == round(5 / 7, 4)
    assert json.loads(json.dumps(figures)) == figures  # stored as JSON without loss


def test_abnormal_cases_are_listed_with_masked_names(db: Session) -> None:
    day = build(db)
    cases = report_figures.compute(db, DAY, TZ, NOW)["abnormal_cases"]
    assert [c["name"] for c in cases] == ["北***3", "张*丰"]
    fever = next(c for c in cases if c["resident_id"] == day.fever.id)
    assert (fever["kind"], fever["temperature"], fever["city"], fever["station"]) == (
        "fever",
        38.2,
        "武汉",
        "北城派出所",
    )
    assert "张三丰" not in json.dumps(cases, ensure_ascii=False)


def test_advisories_tips_and_leads(db: Session) -> None:
    build(db)
    figures = report_figures.compute(db, DAY, TZ, NOW)
    adv = figures["advisories"]
    assert (adv["sent_today"], adv["groups_today"], adv["forwarded_today"]) == (1, 3, 1)
    assert (adv["opens_today"], adv["shares_today"]) == (2, 1)
    [item] = adv["items"]
    assert (item["groups"], item["delivered"], item["failed"], item["forwarded"]) == (3, 1, 1, 1)
    tips = figures["tips"]
    assert (tips["received_today"], tips["received_total"], tips["new_clusters_today"]) == (2, 3, 1)
    assert tips["clusters_by_status"]["rumor"] == 1 and tips["clusters_by_status"]["pending"] == 1
    leads = {row["station"]: row for row in figures["leads"]["stations"]}
    north, south = leads["北城派出所"], leads["南湖派出所"]
    assert (north["created_today"], north["open"], north["in_progress"], north["overdue"]) == (1, 1, 1, 1)
    assert (south["done"], south["done_today"], south["overdue"], south["outcomes"]) == (
        1,
        1,
        0,
        {"批评教育": 1},
    )
    assert figures["leads"]["total"]["overdue"] == 1
    assert figures["leads"]["by_source"] == {"checkin": 2, "tip": 1}
    [late] = figures["overdue_leads"]
    assert (late["station"], late["days_overdue"], late["resident"], late["status"]) == (
        "北城派出所",
        2,
        "北***3",
        "in_progress",
    )


def test_an_empty_county_reports_zeros(db: Session) -> None:
    figures = report_figures.compute(db, DAY, TZ, NOW)
    assert figures["total"]["expected"] == 0 and figures["total"]["rate"] == 0.0
    assert figures["abnormal_cases"] == [] and figures["overdue_leads"] == []


def test_every_table_and_headline_reads_the_figures(db: Session) -> None:
    build(db)
    figures = report_figures.compute(db, DAY, TZ, NOW)
    for table in TABLES:
        for row in table.rows(figures):
            for column in table.columns:
                assert column.key in row, (table.key, column.key)
    lines = {h.label: h.value for h in headlines(figures)}
    assert lines["今日应报到"] == 7 and lines["今日推送倡议书"] == 1 and lines["逾期线索"] == 1
    assert lines["今日转发（人工转发+分享）"] == 2
