"""The phone list's call form: a few keystrokes per call; a reached call is the day's check-in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import (
    AuditEvent,
    Checkin,
    CheckinStatus,
    ContactMethod,
    LeadPriority,
    ResidentStatus,
    VisitOutcome,
)
from tests.checkins.support import DAY, checkin_of, clock, csrf_of, leads_of, officer, visits_of
from tests.factories import login, make_checkin, make_resident, make_station


@pytest.fixture()
def setup(db: Session, client: FlaskClient) -> Iterator[tuple[FlaskClient, object, Checkin]]:
    station = make_station(db)
    resident = make_resident(db, station, name="孙悟空")
    checkin = make_checkin(db, resident, DAY, status=CheckinStatus.PHONE_LIST, phone_list_reason="silent")
    user = officer(db, station)
    with clock("20:30"):  # the whole test at one moment of the evening
        login(client, user.username)
        yield client, resident, checkin


def page(client: FlaskClient) -> str:
    return client.get("/checkins/phone-list?day=2020-02-15").get_data(as_text=True)


def call(client: FlaskClient, checkin: Checkin, **fields: str) -> str:
    html = page(client)
    data = {"csrf_token": csrf_of(html), "outcome": "reached", "health": "normal", "whereabouts": "unchanged"}
    data.update(fields)
    response = client.post(f"/checkins/calls/{checkin.id}?day=2020-02-15", data=data, follow_redirects=True)
    return response.get_data(as_text=True)


def test_the_list_shows_a_call_form_per_row(setup: tuple, db: Session) -> None:
    client, _, checkin = setup
    html = page(client)
    assert "孙*空" in html or "孙悟空" in html
    form = re.search(rf'<form method="post" action="/checkins/calls/{checkin.id}[^"]*"', html)
    assert form is not None and 'id="outcome-' in html and "1 接通" in html and "js/checkins.js" in html


def test_a_reached_call_counts_as_the_day_s_check_in(setup: tuple, db: Session) -> None:
    client, resident, checkin = setup
    done = call(client, checkin, note="本人接听")
    assert "已记录 孙悟空：已联系，已计入今日签到" in done
    recorded = checkin_of(db, resident)
    assert recorded.status == CheckinStatus.REACHED_BY_PHONE and recorded.channel == ContactMethod.PHONE
    [visit] = visits_of(db, resident)
    assert visit.method == ContactMethod.PHONE and visit.note == "本人接听" and visit.staff_id is not None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "checkin.call")) is not None


def test_a_reached_call_escalates_like_a_chat_answer(setup: tuple, db: Session) -> None:
    client, resident, checkin = setup
    done = call(client, checkin, health="fever", whereabouts="returned")
    assert "生成 2 条线索" in done
    assert sorted(lead.priority for lead in leads_of(db, resident)) == [
        LeadPriority.HIGH,
        LeadPriority.NORMAL,
    ]
    db.refresh(resident)
    assert resident.status == ResidentStatus.MONITORING


def test_not_reached_and_wrong_number_are_visits_but_not_check_ins(setup: tuple, db: Session) -> None:
    client, resident, checkin = setup
    call(client, checkin, outcome="not_reached")
    call(client, checkin, outcome="wrong_number")
    assert checkin_of(db, resident).status == CheckinStatus.NOT_REACHED
    assert [v.outcome for v in visits_of(db, resident)] == [
        VisitOutcome.NOT_REACHED,
        VisitOutcome.WRONG_NUMBER,
    ]


def test_a_move_needs_the_city(setup: tuple, db: Session) -> None:
    client, resident, checkin = setup
    assert "请填写现在所在的城市" in call(client, checkin, whereabouts="moved")
    assert checkin_of(db, resident).status == CheckinStatus.PHONE_LIST
    call(client, checkin, whereabouts="moved", city="大连")
    db.refresh(resident)
    assert resident.current_city == "大连"


def test_another_station_s_check_in_answers_404(setup: tuple, db: Session) -> None:
    client, _, _ = setup
    other = make_checkin(db, make_resident(db), DAY, status=CheckinStatus.PHONE_LIST)
    db.commit()
    html = page(client)
    response = client.post(
        f"/checkins/calls/{other.id}", data={"csrf_token": csrf_of(html), "outcome": "reached"}
    )
    assert response.status_code == 404
