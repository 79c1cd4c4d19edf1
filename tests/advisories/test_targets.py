"""The groups registry (keys encrypted, never shown), target selection and recipient previews, audiences."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Role, WeChatGroup
from bot.models.enums import GroupKind
from bot.services import advisory_targets
from bot.services.advisory_targets import GroupInput, TargetError, Targeting
from bot.services.audit import SYSTEM
from tests.factories import make_group, make_station, make_user

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def test_robot_key_is_encrypted_at_rest_masked_and_never_audited(db: Session) -> None:
    group = advisory_targets.save_group(
        db,
        SYSTEM,
        None,
        GroupInput(
            name="城关镇群",
            kind=GroupKind.WECOM_ROBOT,
            webhook_key=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
        ),
    )
    assert group.webhook_key == KEY  # the key out of a pasted address
    raw = db.execute(text("SELECT webhook_key FROM wechat_groups WHERE id = :id"), {"id": group.id}).scalar()
    assert KEY.encode() not in bytes(raw)
    assert advisory_targets.mask_key(KEY) == "693a…5aaa"
    details = db.scalars(select(AuditEvent.detail).where(AuditEvent.record_type == "wechat_group")).all()
    assert details and all(KEY not in str(d) for d in details)
    # Saving again without a key keeps the stored one.
    advisory_targets.save_group(
        db, SYSTEM, group, GroupInput(name="城关镇群（改）", kind=GroupKind.WECOM_ROBOT)
    )
    assert group.webhook_key == KEY and group.name == "城关镇群（改）"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GroupInput(name="a", kind=GroupKind.WECOM_ROBOT), "需要填写 webhook key"),
        (GroupInput(name="a", kind=GroupKind.WECOM_ROBOT, webhook_key="bad key!"), "格式不对"),
        (GroupInput(name="a", kind=GroupKind.WECOM_APPCHAT, chat_id="chat-1"), "chatid"),
        (GroupInput(name="a", kind=GroupKind.WECOM_CUSTOMER_GROUP), "群主"),
        (GroupInput(name="a", kind=GroupKind.OA_TAG), "标签 ID"),
        (GroupInput(name="a", kind=GroupKind.MANUAL), "负责转发"),
        (GroupInput(name=" ", kind=GroupKind.OA_TAG, tag_id=0), "群名称"),
    ],
)
def test_each_kind_needs_its_address(db: Session, data: GroupInput, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        advisory_targets.save_group(db, SYSTEM, None, data)


def test_fields_of_other_kinds_are_cleared(db: Session) -> None:
    owner = make_user(db, Role.STATION_OFFICER)
    group = advisory_targets.save_group(
        db, SYSTEM, None, GroupInput(name="r", kind=GroupKind.WECOM_ROBOT, webhook_key=KEY)
    )
    advisory_targets.save_group(
        db,
        SYSTEM,
        group,
        GroupInput(name="r", kind=GroupKind.MANUAL, owner_staff_id=owner.id, chat_id="x", tag_id=3),
    )
    assert (group.webhook_key, group.chat_id, group.tag_id, group.owner_staff_id) == (
        None,
        "",
        None,
        owner.id,
    )


def test_selection_by_kind_and_township_plus_added_minus_excluded(db: Session) -> None:
    town_a, town_b = make_station(db).parent_id, make_station(db).parent_id
    robot_a = make_group(db, "wecom_robot", township_id=town_a, member_count=300)
    robot_b = make_group(db, "wecom_robot", township_id=town_b, member_count=200)
    robot_a2 = make_group(db, "wecom_robot", township_id=town_a, member_count=50)
    chat_b = make_group(db, "wecom_appchat", township_id=town_b, member_count=20)
    followers = make_group(db, "oa_tag", member_count=5000)
    make_group(db, "wecom_robot", township_id=town_a, active=False)
    targeting = Targeting(
        kinds=frozenset({GroupKind.WECOM_ROBOT}),
        township_ids=frozenset({town_a}),
        group_ids=frozenset({followers.id, chat_b.id}),
        exclude_group_ids=frozenset({robot_a2.id}),
    )
    preview = advisory_targets.preview(db, targeting)
    assert {g.id for g in preview.groups} == {robot_a.id, chat_b.id, followers.id}
    assert robot_b not in preview.groups
    assert (
        preview.by_kind[GroupKind.WECOM_ROBOT].groups == 1
        and preview.by_kind[GroupKind.WECOM_ROBOT].members == 300
    )
    assert preview.by_kind[GroupKind.OA_TAG].members == 5000
    assert preview.total_members == 5320 and [g.id for g in preview.excluded] == [robot_a2.id]
    assert Targeting.from_json(targeting.to_json()) == targeting
    assert advisory_targets.preview(db, Targeting()).groups == []


def test_audiences_are_saved_with_unique_names(db: Session) -> None:
    targeting = Targeting(kinds=frozenset({GroupKind.WECOM_ROBOT}))
    audience = advisory_targets.save_audience(db, SYSTEM, None, "全部乡镇群", targeting)
    assert Targeting.from_json(audience.targets) == targeting
    with pytest.raises(TargetError, match="已有名为"):
        advisory_targets.save_audience(db, SYSTEM, None, "全部乡镇群", targeting)
    with pytest.raises(TargetError, match="至少选择"):
        advisory_targets.save_audience(db, SYSTEM, None, "空的", Targeting())
    assert [a.name for a in advisory_targets.list_audiences(db)] == ["全部乡镇群"]
    assert db.scalar(select(WeChatGroup)) is None
