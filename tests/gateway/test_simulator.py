"""The simulator and the embedded stand-in, end to end over HTTP: the demo's own set-up."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.clock import now_utc
from bot.config import Settings, replace
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.models import Resident, WeChatGroup, WeChatIdentity, utcnow
from bot.runtime import Runtime
from bot.services import advisory_sending, outbox
from bot.services.audit import SYSTEM
from bot.simulator import Simulator
from tests.advisories.support import approved_advisory, make_team
from tests.factories import PASSWORD, make_resident
from web.server import build_wsgi


@pytest.fixture()
def served(committing_rt: Runtime, base_settings: Settings) -> Iterator[tuple[Runtime, Simulator]]:
    """`lanxi serve`'s WSGI stack (panel + callbacks + /fake-wechat) on a free port."""
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    raw = replace(
        committing_rt.settings,
        web={"public_base_url": base},
        wechat={"api_base_url": "embedded", "open_base_url": "embedded"},
        wecom={"api_base_url": "embedded"},
    )
    rt = Runtime.from_settings(raw, committing_rt.engine)
    holder["app"] = build_wsgi(rt, raw)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rt, Simulator(rt.settings)
    server.shutdown()


def test_simulated_resident_talks_to_the_real_callback(served: tuple[Runtime, Simulator]) -> None:
    rt, sim = served
    assert sim.available()
    with rt.session() as db:
        resident = make_resident(db, name="李春花")
        openid = sim.new_follower()
        db.add(
            WeChatIdentity(
                account=rt.settings.wechat.app_id, openid=openid, resident_id=resident.id, bound_at=utcnow()
            )
        )
    assert "辟谣" in sim.text(openid, "举报")
    assert sim.text(openid, "取消")
    assert "没有听清" in sim.voice(openid, "")


def test_later_messages_arrive_through_the_outbox_and_the_local_wechat(
    served: tuple[Runtime, Simulator],
) -> None:
    from bot.channels import build_channels

    rt, sim = served
    openid = sim.new_follower()
    sim.text(openid, "你好")  # opens the 48 h window at the local WeChat
    with rt.session() as db:
        outbox.enqueue(
            db,
            key="sim:test:1",
            channel="oa_custom",
            recipient=openid,
            payload={"msgtype": "text", "text": {"content": "稍后送达的客服消息"}},
        )
    drain(rt, build_channels(rt), RateGate())
    assert [m.text for m in sim.later_messages(openid)] == ["稍后送达的客服消息"]


def _csrf(http: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', http.get(url, timeout=10).text)
    assert match, f"no CSRF token on {url}"
    return match[1]


def test_a_robot_group_added_in_the_panel_after_start_up_receives_advisories(
    served: tuple[Runtime, Simulator],
) -> None:
    from bot.channels import build_channels

    rt, _ = served
    base = rt.settings.web.public_base_url
    key = "9c1d2e3f-4a5b-4c6d-8e7f-lanxi-robot-new"
    with rt.session() as db:
        team = make_team(db)
    with requests.Session() as http:  # the stack is already serving: the group is new to the stand-in
        login = {"username": team.composer.username, "password": PASSWORD}
        http.post(f"{base}/login", data={**login, "csrf_token": _csrf(http, f"{base}/login")}, timeout=10)
        created = http.post(
            f"{base}/advisories/groups/new",
            data={
                "csrf_token": _csrf(http, f"{base}/advisories/groups/new"),
                "name": "红星村群",
                "kind": "wecom_robot",
                "township_id": "0",
                "webhook_key": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}",
                "owner_staff_id": "0",
                "member_count": "80",
                "active": "y",
            },
            allow_redirects=False,
            timeout=10,
        )
    assert created.status_code == 302
    with rt.session() as db:
        group = db.scalars(select(WeChatGroup)).one()
        advisory = approved_advisory(db, rt, team, [group], title="致红星村外出人员的倡议书")
        advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc())
    assert drain(rt, build_channels(rt), RateGate()) == 1
    fake = f"{base}/fake-wechat"
    [delivered] = requests.get(
        f"{fake}/_fake/delivered", params={"kind": "robot", "target": key}, timeout=10
    ).json()["delivered"]
    assert "致红星村外出人员的倡议书" in str(delivered["payload"])
    stranger = requests.post(  # the stand-in still refuses a key no group holds
        f"{fake}/cgi-bin/webhook/send",
        params={"key": "0000aaaa-lanxi-robot-nobody-added"},
        json={"msgtype": "text", "text": {"content": "你好"}},
        timeout=10,
    )
    assert stranger.json()["errcode"] == 93000


def test_follow_and_unfollow_are_recorded(served: tuple[Runtime, Simulator]) -> None:
    rt, sim = served
    openid = sim.new_follower()
    sim.follow(openid)
    sim.unfollow(openid)
    with rt.session() as db:
        identity = db.scalar(select(WeChatIdentity).where(WeChatIdentity.openid == openid))
        assert identity is not None and not identity.subscribed
        assert db.scalar(select(Resident.id)) is None


def test_simulator_page_is_for_allowed_roles(client: Any, db: Any) -> None:
    from bot.models import Role
    from tests.factories import login, make_station, make_user

    admin, officer = (
        make_user(db, Role.ADMIN),
        make_user(db, Role.STATION_OFFICER, jurisdiction=make_station(db)),
    )
    db.commit()
    login(client, admin.username)
    page = client.get("/simulator/").get_data(as_text=True)
    assert "微信模拟器" in page and "未连接本地微信模拟服务" in page  # the test app has no stand-in mounted
    client.post("/logout", data={})  # CSRF-less: refused, still signed in
    other = client.application.test_client()
    login(other, officer.username)
    assert other.get("/simulator/").status_code == 403
