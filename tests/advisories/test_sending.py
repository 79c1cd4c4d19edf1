"""Sending through the real channels to the local WeChat over HTTP: every kind, errors, retries, rate limits,
cancel mid-send, rescheduling and the idempotent due job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.base import Channel
from bot.clock import now_utc
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer
from bot.jobs import run_job
from bot.models import AuditEvent, JobRun, OutboxMessage, Role
from bot.models.enums import AdvisoryStatus, DeliveryStatus, GroupKind, OutboxStatus
from bot.runtime import Runtime
from bot.services import advisories, advisory_sending
from bot.services.advisories import AdvisoryError
from bot.services.advisory_jobs import advisories_due
from bot.services.advisory_targets import Targeting
from bot.services.audit import SYSTEM, Actor
from tests.advisories.conftest import CHAT_ID, FOLLOWERS, OTHER_ROBOT_KEY, ROBOT_KEY, TAG_ID
from tests.advisories.support import Team, approved_advisory, deliver_all, make_team, outbox_rows
from tests.factories import make_advisory, make_group, make_user


def start(db: Session, rt: Runtime, advisory) -> advisory_sending.Started:  # type: ignore[no-untyped-def]
    result = advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc())
    db.commit()
    return result


def share_url(rt: Runtime, db: Session, advisory, group) -> str:  # type: ignore[no-untyped-def]
    row = next(r for r in advisory_sending.targets(db, advisory) if r.group_id == group.id)
    return advisories.page_url(rt.settings, row.share_token)


def test_every_kind_of_target_receives_its_message(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    team = make_team(db)
    forwarder = make_user(db, Role.STATION_OFFICER, display_name="村干部")
    forwarder.wecom_userid = "wangwu"
    robot = make_group(db, "wecom_robot", webhook_key=ROBOT_KEY)
    chat = make_group(db, "wecom_appchat", chat_id=CHAT_ID)
    customers = make_group(db, "wecom_customer_group", owner_userid="zhangsan")
    tagged = make_group(db, "oa_tag", tag_id=TAG_ID)
    everyone = make_group(db, "oa_tag", tag_id=0)
    by_hand = make_group(db, "manual", owner_staff_id=forwarder.id, name="城关村村民群")
    groups = [robot, chat, customers, tagged, everyone, by_hand]
    advisory = approved_advisory(db, wrt, team, groups, title="致{{ county }}全体居民", body="请勤洗手。")
    assert start(db, wrt, advisory) == advisory_sending.Started(targets=6, queued=6)
    assert deliver_all(wrt, channels) == 6
    state = fake.state

    [pushed] = state.delivered("robot", ROBOT_KEY)
    assert pushed.payload["msgtype"] == "text"
    assert pushed.payload["text"]["content"].startswith("【致兰西县全体居民】\n\n请勤洗手。")
    assert share_url(wrt, db, advisory, robot) in pushed.payload["text"]["content"]

    [in_chat] = state.delivered("appchat", CHAT_ID)
    assert in_chat.payload["chatid"] == CHAT_ID and in_chat.recipients == ("zhangsan", "lisi")
    assert share_url(wrt, db, advisory, chat) in in_chat.payload["text"]["content"]

    [task] = state.delivered("group_task", "zhangsan")
    assert task.payload["chat_type"] == "group" and task.payload["sender"] == "zhangsan"
    assert task.payload["attachments"][0]["link"]["url"] == share_url(wrt, db, advisory, customers)

    [to_tag] = state.delivered("mass", str(TAG_ID))
    [to_all] = state.delivered("mass", "all")
    assert set(to_tag.recipients) == set(FOLLOWERS) == set(to_all.recipients)
    assert to_tag.payload["filter"] == {"is_to_all": False, "tag_id": TAG_ID}
    assert to_all.payload["filter"] == {"is_to_all": True}

    [notice] = state.delivered("wecom_app", "wangwu")
    assert "「城关村村民群」" in notice.payload["text"]["content"]
    assert share_url(wrt, db, advisory, by_hand) in notice.payload["text"]["content"]

    tokens = {row.share_token for row in advisory_sending.targets(db, advisory)}
    assert len(tokens) == 6  # one share token per group and forwarder
    progress = advisory_sending.progress(db, advisory)
    assert progress.counts == {
        "queued": 0,
        "sent": 5,
        "failed": 0,
        "awaiting_forward": 1,
        "forwarded": 0,
        "cancelled": 0,
    }
    assert advisory_sending.finish_if_done(db, advisory, now_utc()) and advisory.status == AdvisoryStatus.SENT


def test_markdown_goes_to_robots_as_markdown(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    advisory = approved_advisory(
        db,
        wrt,
        make_team(db),
        [make_group(db, webhook_key=ROBOT_KEY)],
        body="**戴口罩**",
        body_format="markdown",
    )
    start(db, wrt, advisory)
    deliver_all(wrt, channels)
    [pushed] = fake.state.delivered("robot", ROBOT_KEY)
    assert pushed.payload["msgtype"] == "markdown" and "**戴口罩**" in pushed.payload["markdown"]["content"]


def test_a_permanent_error_surfaces_per_target_and_resend_retries_only_failed(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    good = make_group(db, webhook_key=ROBOT_KEY, name="好群")
    bad = make_group(db, webhook_key="0000aaaa-not-a-registered-robot", name="坏群")
    advisory = approved_advisory(db, wrt, make_team(db), [good, bad])
    start(db, wrt, advisory)
    deliver_all(wrt, channels)
    rows = {r.group_name: r for r in advisory_sending.targets(db, advisory)}
    assert rows["好群"].status == DeliveryStatus.SENT
    assert rows["坏群"].status == DeliveryStatus.FAILED and rows["坏群"].error == "群机器人 webhook key 无效"
    assert advisory_sending.finish_if_done(
        db, advisory, now_utc()
    )  # failures are final: the advisory is sent
    fake.state.register_robot("0000aaaa-not-a-registered-robot")  # staff fixed the robot
    assert advisory_sending.resend_failed(db, Actor.staff(make_user(db, Role.PROPAGANDA)), advisory) == 1
    db.commit()
    assert advisory.status == AdvisoryStatus.SENDING
    deliver_all(wrt, channels)
    assert {r.status for r in advisory_sending.targets(db, advisory)} == {DeliveryStatus.SENT}
    assert len(fake.state.delivered("robot", ROBOT_KEY)) == 1  # the good group got it once


def test_a_transient_error_is_retried(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    advisory = approved_advisory(db, wrt, make_team(db), [make_group(db, "wecom_appchat", chat_id=CHAT_ID)])
    start(db, wrt, advisory)
    fake.state.inject_fault("/cgi-bin/appchat/send", errcode=-1, times=1)
    deliver_all(wrt, channels)
    [row] = outbox_rows(db)
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1 and row.last_error == "微信系统繁忙"
    assert advisory_sending.progress(db, advisory).counts["queued"] == 1
    row.next_attempt_at = now_utc()  # the backoff has passed
    db.commit()
    deliver_all(wrt, channels)
    assert advisory_sending.targets(db, advisory)[0].status == DeliveryStatus.SENT
    assert len(fake.state.delivered("appchat", CHAT_ID)) == 1


def test_robot_rate_limit_with_a_compressed_clock(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    """Four robots sharing one key: at "2/second" the third message waits about a second."""
    team = make_team(db)
    robots = [make_group(db, webhook_key=ROBOT_KEY) for _ in range(4)]
    advisory = approved_advisory(db, wrt, team, robots)
    start(db, wrt, advisory)
    rate_keys = {row.rate_key for row in outbox_rows(db)}
    assert rate_keys == {advisory_sending.robot_rate_key(ROBOT_KEY)} and ROBOT_KEY not in next(
        iter(rate_keys)
    )
    deliver_all(wrt, channels, RateGate(limits={"robot": "2/second"}))
    times = sorted(d.at for d in fake.state.delivered("robot", ROBOT_KEY))
    assert len(times) == 4 and times[2] - times[0] >= 0.9
    assert all(c.errcode in (0, None) for c in fake.state.calls("/cgi-bin/webhook/send"))


def test_a_slow_budget_postpones_and_cancel_stops_what_has_not_gone(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    team = make_team(db)
    robots = [make_group(db, webhook_key=OTHER_ROBOT_KEY) for _ in range(3)]
    advisory = approved_advisory(db, wrt, team, robots)
    start(db, wrt, advisory)
    deliver_all(wrt, channels, RateGate(limits={"robot": "1/minute"}))
    assert advisory_sending.progress(db, advisory).counts["sent"] == 1
    assert advisory_sending.progress(db, advisory).counts["queued"] == 2
    stopped = advisories.cancel(db, Actor.staff(team.composer), advisory, now_utc())
    db.commit()
    assert stopped == 2 and advisory.status == AdvisoryStatus.CANCELLED
    for row in outbox_rows(db):
        row.next_attempt_at = now_utc() - timedelta(minutes=5)
    db.commit()
    assert deliver_all(wrt, channels) == 0
    assert len(fake.state.delivered("robot", OTHER_ROBOT_KEY)) == 1
    counts = advisory_sending.progress(db, advisory).counts
    assert (counts["sent"], counts["cancelled"], counts["queued"]) == (1, 2, 0)
    with pytest.raises(AdvisoryError):
        advisories.cancel(db, Actor.staff(team.composer), advisory, now_utc())


def _scheduled(db: Session, rt: Runtime, team: Team, groups, at):  # type: ignore[no-untyped-def]
    advisory = approved_advisory(db, rt, team, groups)
    advisories.schedule(db, rt.settings, Actor.staff(team.composer), advisory, at, now_utc())
    db.commit()
    return advisory


def test_the_due_job_is_idempotent(
    db: Session, wrt: Runtime, fake: FakeWeChatServer, channels: dict[str, Channel]
) -> None:
    at = now_utc() + timedelta(hours=1)
    advisory = _scheduled(db, wrt, make_team(db), [make_group(db, webhook_key=ROBOT_KEY)], at)
    assert advisories_due(wrt, at - timedelta(seconds=1))["started"] == []
    first = run_job(wrt, "advisories_due", now=at + timedelta(seconds=1))
    assert first["started"] == [advisory.id] and first["queued"] == 1
    again = run_job(wrt, "advisories_due", now=at + timedelta(seconds=31))
    assert again["started"] == [] and again["queued"] == 0
    assert advisory_sending.start(db, wrt.settings, SYSTEM, advisory, now_utc()).queued == 0
    deliver_all(wrt, channels)
    done = run_job(wrt, "advisories_due", now=at + timedelta(seconds=61))
    assert done["finished"] == [advisory.id]
    db.expire_all()
    assert advisory.status == AdvisoryStatus.SENT
    assert len(fake.state.delivered("robot", ROBOT_KEY)) == 1
    assert len(outbox_rows(db)) == 1
    assert db.scalar(select(func.count(JobRun.id)).where(JobRun.job_id == "advisories_due")) == 3


def test_rescheduled_advisories_go_at_the_new_time(db: Session, wrt: Runtime) -> None:
    team = make_team(db)
    first_time = now_utc() + timedelta(hours=1)
    advisory = _scheduled(db, wrt, team, [make_group(db, webhook_key=ROBOT_KEY)], first_time)
    advisories.schedule(
        db, wrt.settings, Actor.staff(team.composer), advisory, first_time + timedelta(hours=2), now_utc()
    )
    db.commit()
    assert advisories_due(wrt, first_time + timedelta(minutes=1))["started"] == []
    assert advisories_due(wrt, first_time + timedelta(hours=2, seconds=1))["started"] == [advisory.id]


def test_limits_are_enforced_again_when_sending(db: Session, wrt: Runtime) -> None:
    """A robot registered after approval is picked up by the kind rule but cannot take the long text."""
    team = make_team(db)
    make_group(db, "wecom_customer_group")
    targets = Targeting(kinds=frozenset({GroupKind.WECOM_CUSTOMER_GROUP, GroupKind.WECOM_ROBOT}))
    advisory = make_advisory(db, team.composer, targets=targets, body="字" * 800)
    at = now_utc() + timedelta(minutes=5)
    from tests.advisories.support import approve_fully

    approve_fully(db, wrt, team, advisory)
    advisories.schedule(db, wrt.settings, Actor.staff(team.composer), advisory, at, now_utc())
    robot = make_group(db, webhook_key=ROBOT_KEY, name="新登记的机器人群")
    db.commit()
    with pytest.raises(AdvisoryError, match="「新登记的机器人群」：群机器人文本消息超出 2048 字节上限"):
        advisory_sending.start(db, wrt.settings, SYSTEM, advisory, at)
    db.rollback()
    summary = advisories_due(wrt, at + timedelta(seconds=1))
    assert summary["started"] == [] and "超出 2048 字节上限" in summary["refused"][advisory.id]
    db.expire_all()
    assert advisory.status == AdvisoryStatus.APPROVED and advisory.scheduled_at is None
    assert db.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "advisory.send_refused"))
    assert robot.id
