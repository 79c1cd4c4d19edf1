"""The simulator and the embedded stand-in, end to end over HTTP: the demo's own set-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.config import Settings, replace
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.models import Resident, WeChatIdentity, utcnow
from bot.runtime import Runtime
from bot.services import outbox
from bot.simulator import Simulator
from tests.factories import make_resident
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
