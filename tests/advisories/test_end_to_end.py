"""Browser-free end to end: compose → two approvals → schedule → the due job fires on a moved clock →
delivery → the simulated groups (robot, app chat, followers) received the advisory, and its page counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.base import Channel
from bot.clock import now_utc
from bot.fake_wechat import FakeWeChatServer
from bot.jobs import run_job
from bot.models import Advisory
from bot.models.enums import AdvisoryStatus
from bot.runtime import Runtime
from bot.services import advisory_reach, advisory_sending
from tests.advisories.conftest import CHAT_ID, FOLLOWERS, ROBOT_KEY, TAG_ID
from tests.advisories.support import csrf, deliver_all, make_team
from tests.factories import login, make_group
from web import create_app

pytestmark = pytest.mark.slow


def test_compose_approve_schedule_fire_deliver_and_count(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    team = make_team(db)
    robot = make_group(db, webhook_key=ROBOT_KEY, name="城关镇机器人群")
    make_group(db, "wecom_appchat", chat_id=CHAT_ID, name="城关镇防控群")
    followers = make_group(db, "oa_tag", tag_id=TAG_ID, name="外出人员标签")
    excluded = make_group(db, webhook_key="never-used-robot-key", name="被排除的群")
    db.commit()
    app = create_app(runtime=wrt)
    app.config.update(TESTING=True)
    client = app.test_client()

    login(client, team.composer.username)
    client.post(
        "/advisories/new",
        data={
            "csrf_token": csrf(client, "/advisories/new"),
            "title": "{{ county }}公安局致全县外出人员的一封信",
            "body": "请在外做好防护，每天在公众号报平安。\n\n发现发热请及时报告，举报电话 {{ hotline }}。",
            "body_format": "text",
            "kinds": ["wecom_robot", "wecom_appchat"],
            "group_ids": [str(followers.id)],
            "exclude_group_ids": [str(excluded.id)],
            "audience_id": "0",
        },
    )
    advisory = db.scalars(select(Advisory)).one()
    client.post(
        f"/advisories/{advisory.id}/submit", data={"csrf_token": csrf(client, f"/advisories/{advisory.id}")}
    )
    for approver in (team.head, team.leader):
        client.post("/logout", data={"csrf_token": csrf(client, "/advisories/tasks")})
        login(client, approver.username)
        token = csrf(client, f"/advisories/{advisory.id}")
        client.post(
            f"/advisories/{advisory.id}/decide",
            data={"csrf_token": token, "decision": "approve", "comment": "同意"},
        )
    client.post("/logout", data={"csrf_token": csrf(client, "/advisories/tasks")})
    login(client, team.composer.username)
    local_at = (now_utc() + timedelta(hours=2)).astimezone(wrt.settings.tz).replace(second=0, microsecond=0)
    client.post(
        f"/advisories/{advisory.id}/schedule",
        data={
            "csrf_token": csrf(client, f"/advisories/{advisory.id}"),
            "at": local_at.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    db.expire_all()
    assert advisory.status == AdvisoryStatus.SCHEDULED
    scheduled_at: datetime = advisory.scheduled_at  # type: ignore[assignment]
    assert scheduled_at == local_at

    assert run_job(wrt, "advisories_due", now=scheduled_at - timedelta(seconds=30))["started"] == []
    assert fake.state.delivered() == []
    fired = run_job(wrt, "advisories_due", now=scheduled_at + timedelta(seconds=10))
    assert fired["started"] == [advisory.id] and fired["queued"] == 3
    assert deliver_all(wrt, channels) == 3

    [pushed] = fake.state.delivered("robot", ROBOT_KEY)
    assert pushed.payload["text"]["content"].startswith("【兰西县公安局致全县外出人员的一封信】")
    assert "0455-5623110" in pushed.payload["text"]["content"]
    assert fake.state.delivered("appchat", CHAT_ID)[0].recipients == ("zhangsan", "lisi")
    assert set(fake.state.delivered("mass", str(TAG_ID))[0].recipients) == set(FOLLOWERS)
    assert fake.state.delivered("robot", "never-used-robot-key") == []

    assert run_job(wrt, "advisories_due", now=scheduled_at + timedelta(seconds=40))["finished"] == [
        advisory.id
    ]
    assert run_job(wrt, "advisories_due", now=scheduled_at + timedelta(seconds=70)) == {
        "started": [],
        "queued": 0,
        "finished": [],
        "refused": {},
    }
    assert len(fake.state.delivered()) == 3

    share_token = next(
        r.share_token for r in advisory_sending.targets(db, advisory) if r.group_id == robot.id
    )
    phone = {"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/7.0.10"}
    assert client.get(f"/a/{share_token}", headers=phone).status_code == 200
    client.post(f"/a/{share_token}/share", headers=phone)
    row = next(r for r in advisory_reach.reach_table(db, advisory).rows if r.label == "城关镇机器人群")
    assert (row.reach.delivered, row.reach.opened, row.reach.forwarded) == (1, 1, 1)
    page = client.get(f"/advisories/{advisory.id}").get_data(as_text=True)
    assert "已发送" in page and "城关镇机器人群" in page
