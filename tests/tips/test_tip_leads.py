"""Tip leads at the station: the rumor and verdict without the reporters; the outcome reaches cyber police."""

from __future__ import annotations

import re

from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Lead, Role, Tip
from bot.runtime import Runtime
from bot.services import tip_queue
from tests.factories import login, make_station, make_tip, make_user
from tests.tips.support import Chat, cluster_of, reviewer, rumor_lead

RUMOR = "某某超市老板确诊了，去过的人都要隔离！"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def lead_for(rt: Runtime, db: Session) -> tuple[Lead, list[Tip]]:
    Chat(rt, "oWitness").file(RUMOR)
    make_tip(db, rt.settings, RUMOR + "！", reporter="5.5.5.5", contact="13700003333")
    tips = list(db.scalars(select(Tip).order_by(Tip.id)))
    cluster = cluster_of(db, tips[0])
    lead = rumor_lead(
        rt,
        db,
        reviewer(db, "网警"),
        cluster,
        reason="超市老板健康",
        debunk="老板身体健康。",
        station="红星派出所",
        task="约谈发布人",
    )
    db.commit()
    return lead, tips


def assert_no_reporter(html: str, tips: list[Tip]) -> None:
    for tip in tips:
        assert tip.ticket not in html and tip.reporter_hash[:6] not in html
    assert "13700003333" not in html and "oWitness" not in html


def test_the_partial_shows_the_rumor_and_verdict_but_no_reporter(
    app: Flask, rt: Runtime, db: Session
) -> None:
    lead, tips = lead_for(rt, db)
    summary = tip_queue.lead_summary(db, lead)
    assert summary is not None and summary.decided and summary.samples == (RUMOR, RUMOR + "！")
    with app.test_request_context():
        html = render_template("leads/_tip_detail.html", lead=lead, tz=rt.settings.tz)
    assert "超市老板确诊" in html and "谣言" in html and "老板身体健康。" in html and "2 人举报" in html
    assert_no_reporter(html, tips)


def test_the_station_works_the_lead_and_cyber_police_see_the_outcome(
    app: Flask, rt: Runtime, client: FlaskClient, db: Session
) -> None:
    lead, tips = lead_for(rt, db)
    officer = make_user(db, Role.STATION_OFFICER, jurisdiction=lead.station)
    cyber = make_user(db, Role.CYBER_POLICE)
    db.commit()
    login(client, officer.username)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "超市老板确诊" in page and "老板身体健康。" in page
    assert_no_reporter(page, tips)
    assert client.get(f"/tips/clusters/{lead.cluster_id}").status_code == 403  # no way to the reporters
    token = _CSRF.search(page)
    assert token
    answer = client.post(
        f"/leads/{lead.id}/outcome",
        data={"csrf_token": token[1], "outcome": "批评教育", "note": "已约谈，发布人删帖致歉"},
    )
    assert answer.status_code == 302
    other = app.test_client()  # the cyber police, in their own browser
    login(other, cyber.username)
    cluster_page = other.get(f"/tips/clusters/{lead.cluster_id}").get_data(as_text=True)
    assert (
        "红星派出所" in cluster_page
        and "批评教育" in cluster_page
        and "已约谈，发布人删帖致歉" in cluster_page
    )


def test_a_station_cannot_see_another_stations_tip_lead(
    rt: Runtime, client: FlaskClient, db: Session
) -> None:
    lead, _ = lead_for(rt, db)
    elsewhere = make_user(db, Role.STATION_OFFICER, jurisdiction=make_station(db, "别的派出所"))
    db.commit()
    login(client, elsewhere.username)
    assert client.get(f"/leads/{lead.id}").status_code == 404
