"""The mobile check-in page through WeChat web authorization (the local WeChat's OAuth)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.fake_wechat import FakeWeChatServer
from bot.models import CheckinStatus, ContactMethod, Health
from bot.runtime import Runtime
from tests.checkins.support import checkin_of, csrf_of, leads_of, visits_of
from tests.delivery.support import at_fake, wechat_state
from tests.factories import make_identity, make_resident
from web import create_app


@pytest.fixture()
def fake() -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(wechat_state()) as server:
        yield server


@pytest.fixture()
def phone(rt: Runtime, fake: FakeWeChatServer) -> FlaskClient:
    """A phone's browser against the app, whose WeChat is the local fake."""
    app = create_app(runtime=at_fake(rt, fake.url))
    app.config.update(TESTING=True)
    return app.test_client()


def open_page(phone: FlaskClient, openid: str) -> str:
    """Open /h5/checkin as WeChat's in-app browser would: through web authorization and back."""
    to_wechat = phone.get("/h5/checkin")
    assert to_wechat.status_code == 302
    authorize = to_wechat.headers["Location"].split("#")[0]
    assert "/connect/oauth2/authorize" in authorize and "scope=snsapi_base" in authorize
    back = requests.get(authorize, params={"fake_openid": openid}, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    target = urlsplit(back.headers["Location"])
    assert target.path == "/h5/checkin" and "code=" in target.query
    landed = phone.get(f"{target.path}?{target.query}")
    assert landed.status_code == 302  # the one-time code leaves the address bar
    return phone.get("/h5/checkin").get_data(as_text=True)


def test_a_bound_resident_answers_the_four_questions(phone: FlaskClient, rt: Runtime, db: Session) -> None:
    resident = make_resident(db, name="林黛玉")
    identity = make_identity(db, resident, window_open=False)
    db.commit()
    page = open_page(phone, identity.openid)
    assert "林*玉，您好" in page and "您今天身体怎么样" in page and "您打算哪天回兰西" in page
    answers = {
        "csrf_token": csrf_of(page),
        "health": "fever",
        "temperature": "38.2",
        "whereabouts": "moved",
        "city": "苏州",
        "return_plan": "undecided",
    }
    done = phone.post("/h5/checkin", data=answers).get_data(as_text=True)
    assert "派出所民警会尽快和您联系" in done
    today = local_today(rt.settings.tz)
    checkin = checkin_of(db, resident, today)
    assert checkin.status == CheckinStatus.ANSWERED and checkin.channel == ContactMethod.H5
    assert (
        checkin.health == Health.FEVER
        and str(checkin.temperature) == "38.2"
        and checkin.whereabouts_city == "苏州"
    )
    assert [v.method for v in visits_of(db, resident)] == [ContactMethod.H5]
    assert len(leads_of(db, resident)) == 1
    assert "今天已经报过平安了" in phone.get("/h5/checkin").get_data(as_text=True)


def test_missing_answers_are_asked_again(phone: FlaskClient, db: Session) -> None:
    identity = make_identity(db, make_resident(db))
    db.commit()
    page = open_page(phone, identity.openid)
    again = phone.post(
        "/h5/checkin",
        data={"csrf_token": csrf_of(page), "health": "normal", "whereabouts": "moved", "return_plan": "date"},
    ).get_data(as_text=True)
    assert "请填写现在所在的城市" in again and "请选择打算回来的日子" in again


def test_an_unbound_wechat_user_is_told_to_bind_first(phone: FlaskClient) -> None:
    page = open_page(phone, "oSomeoneNeverBound000000001")
    assert "请先绑定" in page and "回复“绑定”" in page


def test_a_code_without_our_state_is_refused(phone: FlaskClient) -> None:
    response = phone.get("/h5/checkin?code=planted&state=guessed")
    assert response.status_code == 400 and "链接已失效" in response.get_data(as_text=True)
