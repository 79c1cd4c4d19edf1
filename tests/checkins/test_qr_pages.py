"""QR codes for binding, made through the local WeChat: a resident's (temporary) and a station's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.fake_wechat import FakeWeChatServer
from bot.models import QrScene, Role
from bot.runtime import Runtime
from tests.checkins.support import csrf_of, officer
from tests.delivery.support import at_fake, wechat_state
from tests.factories import login, make_resident, make_station, make_user
from web import create_app


@pytest.fixture()
def panel(rt: Runtime) -> Iterator[tuple[FlaskClient, FakeWeChatServer]]:
    with FakeWeChatServer(wechat_state()) as fake:
        app = create_app(runtime=at_fake(rt, fake.url))
        app.config.update(TESTING=True)
        yield app.test_client(), fake


def test_a_resident_qr_code_is_made_and_shown(
    panel: tuple[FlaskClient, FakeWeChatServer], db: Session
) -> None:
    client, fake = panel
    station = make_station(db)
    resident = make_resident(db, station)
    login(client, officer(db, station).username)
    page = client.get(f"/checkins/qr/resident/{resident.id}").get_data(as_text=True)
    assert "生成二维码" in page
    client.post(f"/checkins/qr/resident/{resident.id}", data={"csrf_token": csrf_of(page)})
    scene = db.scalars(select(QrScene).where(QrScene.resident_id == resident.id)).one()
    assert scene.ticket and fake.state.qr_code(scene.ticket) is not None
    page = client.get(f"/checkins/qr/resident/{resident.id}").get_data(as_text=True)
    assert f"/checkins/qr/{scene.id}.png" in page and "30 天内有效" in page
    image = client.get(f"/checkins/qr/{scene.id}.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_a_station_qr_code_is_permanent_and_kept_to_its_station(
    panel: tuple[FlaskClient, FakeWeChatServer], db: Session
) -> None:
    client, _ = panel
    mine, other = make_station(db), make_station(db)
    login(client, officer(db, mine).username)
    assert "本所绑定二维码" in client.get("/checkins/phone-list").get_data(as_text=True)
    page = client.get(f"/checkins/qr/station/{mine.id}").get_data(as_text=True)
    client.post(f"/checkins/qr/station/{mine.id}", data={"csrf_token": csrf_of(page)})
    assert "长期有效" in client.get(f"/checkins/qr/station/{mine.id}").get_data(as_text=True)
    assert client.get(f"/checkins/qr/station/{other.id}").status_code == 404
    stranger = make_resident(db, other)
    assert client.get(f"/checkins/qr/resident/{stranger.id}").status_code == 404


def test_roles_without_the_registry_cannot_make_codes(
    panel: tuple[FlaskClient, FakeWeChatServer], db: Session
) -> None:
    client, _ = panel
    resident = make_resident(db)
    login(client, make_user(db, Role.PROPAGANDA).username)
    assert client.get(f"/checkins/qr/resident/{resident.id}").status_code == 403
