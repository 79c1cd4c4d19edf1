"""The approval gate: the chain of roles, no self-approval, returns with comments, no sending early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import now_utc
from bot.config import replace
from bot.models import AuditEvent, Role
from bot.models.enums import AdvisoryStatus, Decision
from bot.runtime import Runtime
from bot.services import advisories, advisory_sending
from bot.services.advisories import AdvisoryError, Draft, NotAllowed
from bot.services.advisory_targets import Targeting
from bot.services.audit import Actor
from tests.advisories.support import approve_fully, make_team
from tests.factories import make_advisory, make_group, make_user


def decide(db: Session, rt: Runtime, user, advisory, decision=Decision.APPROVE, comment: str = ""):  # type: ignore[no-untyped-def]
    return advisories.decide(db, rt.settings, user, Actor.staff(user), advisory, decision, comment, now_utc())


def test_full_chain_in_order_approves(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    assert advisory.status == AdvisoryStatus.PENDING_APPROVAL and advisory.revision == 1
    assert advisories.current_role(rt.settings, advisory) == "propaganda"
    with pytest.raises(NotAllowed, match="「宣传」"):
        decide(db, rt, team.leader, advisory)  # the leader's step comes second
    decide(db, rt, team.head, advisory)
    assert advisory.status == AdvisoryStatus.PENDING_APPROVAL and advisory.approval_step == 1
    assert not advisories.chain_complete(rt.settings, advisory)
    decide(db, rt, team.leader, advisory)
    assert advisory.status == AdvisoryStatus.APPROVED and advisories.chain_complete(rt.settings, advisory)
    steps = advisories.steps(rt.settings, advisory)
    assert [(s.role, s.decision.approver_id if s.decision else None) for s in steps] == [
        ("propaganda", team.head.id),
        ("leader", team.leader.id),
    ]
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(advisory.id))).all()
    assert {"advisory.create", "advisory.submit", "advisory.approve"} <= set(actions)


def test_the_composer_cannot_approve_their_own_advisory(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    assert advisories.refusal(rt.settings, team.composer, advisory) == "不能审批自己撰写的倡议书。"
    with pytest.raises(NotAllowed):
        decide(db, rt, team.composer, advisory)
    assert advisory.approval_step == 0 and advisory.approvals == []


def test_other_roles_cannot_decide(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    for role in (Role.STATION_OFFICER, Role.CYBER_POLICE, Role.DATA_CLERK, Role.ADMIN):
        with pytest.raises(NotAllowed):
            decide(db, rt, make_user(db, role), advisory)


def test_one_person_decides_one_step_per_round(db: Session, rt: Runtime) -> None:
    settings = replace(rt.settings, advisories={"approval_chain": ("leader", "leader")})
    strict = Runtime(settings, rt.engine, rt.sessions)
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, settings, Actor.staff(team.composer), advisory, now_utc())
    decide(db, strict, team.leader, advisory)
    with pytest.raises(NotAllowed, match="每人只能审批一个步骤"):
        decide(db, strict, team.leader, advisory)
    decide(db, strict, make_user(db, Role.LEADER), advisory)
    assert advisory.status == AdvisoryStatus.APPROVED


def test_return_needs_a_comment_and_starts_a_new_round(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    decide(db, rt, team.head, advisory)
    with pytest.raises(AdvisoryError, match="退回时请写明修改意见"):
        decide(db, rt, team.leader, advisory, Decision.RETURN, "  ")
    decide(db, rt, team.leader, advisory, Decision.RETURN, "第二段措辞再温和些")
    assert advisory.status == AdvisoryStatus.RETURNED and advisory.approval_step == 0
    with pytest.raises(AdvisoryError):
        advisories.schedule(db, rt.settings, Actor.staff(team.composer), advisory, now_utc(), now_utc())
    draft = Draft(
        title="倡议书（修改）", body="请大家少出门。", targets=Targeting.from_json(advisory.targets)
    )
    advisories.update(db, Actor.staff(team.composer), advisory, draft)
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    assert advisory.revision == 2 and advisories.current_role(rt.settings, advisory) == "propaganda"
    assert not advisories.chain_complete(rt.settings, advisory)  # round 1's approval does not carry over
    decide(db, rt, team.head, advisory)
    decide(db, rt, team.leader, advisory)
    assert advisory.status == AdvisoryStatus.APPROVED
    history = [(a.revision, a.step, a.decision.value, a.comment) for a in advisory.approvals]
    assert history == [
        (1, 0, "approve", ""),
        (1, 1, "return", "第二段措辞再温和些"),
        (2, 0, "approve", ""),
        (2, 1, "approve", ""),
    ]


def test_approved_content_cannot_be_edited(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    approve_fully(db, rt, team, advisory)
    with pytest.raises(AdvisoryError, match="只有草稿或被退回"):
        advisories.update(db, Actor.staff(team.composer), advisory, Draft(title="改了", body="改了"))


def test_submission_lists_every_problem(db: Session, rt: Runtime) -> None:
    settings = replace(rt.settings, advisories={"sensitive_words": ("封村",)})
    team = make_team(db)
    robot = make_group(db, "wecom_robot")
    advisory = make_advisory(
        db, team.composer, [robot], title="据传 {{ county }}", body="封村了" + "字" * 700
    )
    with pytest.raises(AdvisoryError) as raised:
        advisories.submit(db, settings, Actor.staff(team.composer), advisory, now_utc())
    message = str(raised.value)
    assert "标题含有敏感词：「据传」" in message and "正文含有敏感词：「封村」" in message
    assert "群机器人文本消息超出 2048 字节上限" in message
    assert advisory.status == AdvisoryStatus.DRAFT
    nowhere = make_advisory(db, team.composer, [], body="{{ hotline }}")
    with pytest.raises(AdvisoryError, match="请选择发送对象"):
        advisories.submit(db, settings, Actor.staff(team.composer), nowhere, now_utc())
    broken = make_advisory(db, team.composer, [robot], body="{{ telephone }}")
    with pytest.raises(AdvisoryError, match="未知变量"):
        advisories.submit(db, settings, Actor.staff(team.composer), broken, now_utc())


def test_limits_apply_only_to_channels_targeted(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    long_body = "字" * 1000  # over a robot's 2048-byte text limit, within a customer-group task
    advisory = make_advisory(db, team.composer, [make_group(db, "wecom_customer_group")], body=long_body)
    result = advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    assert result.ok and result.messages[make_group(db).kind].over_by > 0


def test_nothing_is_sent_without_the_whole_chain(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    decide(db, rt, team.head, advisory)
    with pytest.raises(AdvisoryError):
        advisory_sending.start(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    advisory.status = AdvisoryStatus.SCHEDULED  # tampered with behind the services' back
    advisory.scheduled_at = now_utc() - timedelta(minutes=1)
    with pytest.raises(NotAllowed, match="审批流程未完成"):
        advisory_sending.start(db, rt.settings, Actor.staff(team.composer), advisory, now_utc())
    assert advisory_sending.targets(db, advisory) == []


def test_schedule_reschedule_and_past_times(db: Session, rt: Runtime) -> None:
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    approve_fully(db, rt, team, advisory)
    now = now_utc()
    actor = Actor.staff(team.composer)
    with pytest.raises(AdvisoryError, match="已经过去"):
        advisories.schedule(db, rt.settings, actor, advisory, now - timedelta(hours=1), now)
    advisories.schedule(db, rt.settings, actor, advisory, now + timedelta(hours=1), now)
    advisories.schedule(db, rt.settings, actor, advisory, now + timedelta(hours=2), now)
    assert advisory.status == AdvisoryStatus.SCHEDULED and advisory.scheduled_at == now + timedelta(hours=2)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(advisory.id))).all()
    assert "advisory.schedule" in actions and "advisory.reschedule" in actions


def test_saved_templates_must_render(db: Session, rt: Runtime) -> None:
    actor = Actor.staff(make_user(db, Role.PROPAGANDA))
    saved = advisories.save_template(
        db,
        rt.settings,
        actor,
        None,
        name="通用倡议",
        title="致{{ county }}群众",
        body="电话 {{ hotline }}",
        body_format="text",
    )
    assert [t.name for t in advisories.list_templates(db)] == ["通用倡议"] and saved.id
    with pytest.raises(AdvisoryError, match="未知变量"):
        advisories.save_template(
            db, rt.settings, actor, None, name="坏的", title="x", body="{{ x }}", body_format="text"
        )
    with pytest.raises(AdvisoryError, match="已有名为"):
        advisories.save_template(
            db, rt.settings, actor, None, name="通用倡议", title="x", body="y", body_format="text"
        )
