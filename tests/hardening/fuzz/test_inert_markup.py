"""Markup typed into names and tips is shown as text, never run: autoescape on every page that shows it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.models import CheckinStatus, Role
from bot.runtime import Runtime
from tests.factories import make_resident
from tests.panel.support import signed_in, today

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_a_hostile_resident_name_is_escaped_on_every_page_that_shows_it(
    client: FlaskClient, db: Session, rt: Runtime
) -> None:
    from bot.models import Checkin

    person = make_resident(db, name=PAYLOAD[:60])
    db.add(
        Checkin(
            resident_id=person.id, station_id=person.station_id, day=today(rt), status=CheckinStatus.PROMPTED
        )
    )
    db.flush()
    signed_in(client, db, Role.ADMIN)
    pages = [
        "/residents/",
        f"/residents/{person.id}",
        "/checkins/lists/non_responders",
        "/checkins/lists/checkins",
    ]
    for url in pages:
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
