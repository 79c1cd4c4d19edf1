"""Manual-forwarding targets: the owner is told through WeCom, sees the task, and marks it done."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.channels.base import Channel
from bot.clock import now_utc
from bot.fake_wechat import FakeWeChatServer
from bot.models import Role
from bot.models.enums import DeliveryStatus
from bot.runtime import Runtime
from bot.services import advisories, advisory_reach, advisory_sending
from bot.services.advisories import NotAllowed
from bot.services.audit import SYSTEM, Actor
from tests.advisories.support import approved_advisory, csrf, deliver_all, make_team, outbox_rows
from tests.factories import login, make_group, make_user


def test_task_flow_from_wecom_notice_to_done(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    cadre = make_user(db, Role.STATION_OFFICER, display_name="村干部")
    cadre.wecom_userid = "cadre01"
    group = make_group(db, "manual", owner_staff_id=cadre.id, name="红星村群")
    advisory = approved_advisory(db, wrt, make_team(db), [group])
    advisory_sending.start(db, wrt.settings, SYSTEM, advisory, now_utc())
    db.commit()
    deliver_all(wrt, channels)
    [notice] = fake.state.delivered("wecom_app", "cadre01")
    assert "https://lanxi.example.cn/advisories/tasks" in notice.payload["text"]["content"]

    [task] = advisory_sending.tasks_for(db, wrt.settings, cadre)
    assert (
        task.status == DeliveryStatus.AWAITING_FORWARD and task.page_url in notice.payload["text"]["content"]
    )
    with pytest.raises(NotAllowed):
        advisory_sending.mark_forwarded(
            db, make_user(db, Role.STATION_OFFICER), SYSTEM, task.delivery_id, now_utc()
        )
    advisory_sending.mark_forwarded(db, cadre, Actor.staff(cadre), task.delivery_id, now_utc())
    advisory_sending.mark_forwarded(db, cadre, Actor.staff(cadre), task.delivery_id, now_utc())  # idempotent
    [done] = advisory_sending.tasks_for(db, wrt.settings, cadre)
    assert done.status == DeliveryStatus.FORWARDED and done.forwarded_at is not None
    assert advisory_sending.progress(db, advisory).counts["forwarded"] == 1
    reach = advisory_reach.reach_table(db, advisory)
    assert (reach.totals.delivered, reach.totals.forwarded) == (1, 1)
    assert advisory_reach.total_forwards(db) == 1


def test_a_forwarder_without_wecom_still_gets_the_task_in_the_panel(db: Session, rt: Runtime) -> None:
    cadre = make_user(db, Role.STATION_OFFICER)
    advisory = approved_advisory(db, rt, make_team(db), [make_group(db, "manual", owner_staff_id=cadre.id)])
    assert advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc()).queued == 0
    assert outbox_rows(db) == []
    [row] = advisory_sending.targets(db, advisory)
    assert row.status == DeliveryStatus.AWAITING_FORWARD and row.outbox_id is None
    assert advisory_sending.finish_if_done(db, advisory, now_utc())  # nothing left to push
    assert len(advisory_sending.tasks_for(db, rt.settings, cadre)) == 1


def test_tasks_page_and_marking_done_through_the_panel(db: Session, rt: Runtime, client: FlaskClient) -> None:
    cadre = make_user(db, Role.STATION_OFFICER)
    other = make_user(db, Role.STATION_OFFICER)
    advisory = approved_advisory(
        db, rt, make_team(db), [make_group(db, "manual", owner_staff_id=cadre.id, name="东风村群")]
    )
    advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc())
    db.commit()
    [task] = advisory_sending.tasks_for(db, rt.settings, cadre)

    login(client, other.username)
    assert "东风村群" not in client.get("/advisories/tasks").get_data(as_text=True)
    token = csrf(client, "/advisories/tasks")
    assert (
        client.post(f"/advisories/tasks/{task.delivery_id}/done", data={"csrf_token": token}).status_code
        == 404
    )
    client.post("/logout", data={"csrf_token": token})

    login(client, cadre.username)
    page = client.get("/advisories/tasks").get_data(as_text=True)
    assert "东风村群" in page and task.page_url in page and "已转发" in page
    response = client.post(
        f"/advisories/tasks/{task.delivery_id}/done", data={"csrf_token": csrf(client, "/advisories/tasks")}
    )
    assert response.status_code == 302
    db.expire_all()
    assert advisory_sending.tasks_for(db, rt.settings, cadre)[0].status == DeliveryStatus.FORWARDED


def test_cancelled_advisories_are_not_forwarded(db: Session, rt: Runtime) -> None:
    cadre = make_user(db, Role.STATION_OFFICER)
    team = make_team(db)
    advisory = approved_advisory(db, rt, team, [make_group(db, "manual", owner_staff_id=cadre.id)])
    advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc())
    advisories.cancel(db, Actor.staff(team.composer), advisory, now_utc())
    [task] = advisory_sending.tasks_for(db, rt.settings, cadre)
    assert task.status == DeliveryStatus.CANCELLED
    with pytest.raises(advisories.AdvisoryError, match="已撤销"):
        advisory_sending.mark_forwarded(db, cadre, SYSTEM, task.delivery_id, now_utc())
