"""The WeChat groups registry, saved audiences, and which groups an advisory's targets select.

A target selection picks groups by kind and township ("all township robots"), adds groups by hand and
excludes some; it is stored as JSON on the advisory (and on saved audiences) and resolved against the
active groups when sending. Robot webhook keys are the robot's credential: encrypted at rest, shown
masked, never logged or audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import StaffUser
from bot.models.advisory import AdvisoryAudience, WeChatGroup
from bot.models.enums import GroupKind
from bot.services import audit
from bot.services.audit import Actor

_ROBOT_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")
_CHAT_ID = re.compile(r"[0-9A-Za-z]{1,32}")
_KIND_VALUES = frozenset(kind.value for kind in GroupKind)


class TargetError(ValueError):
    """Input about a group or an audience that cannot be saved; the message is for staff, in Chinese."""


def _ids(values: Iterable[Any]) -> frozenset[int]:
    return frozenset(int(v) for v in values if str(v).strip().isdigit())


@dataclass(frozen=True)
class Targeting:
    kinds: frozenset[GroupKind] = frozenset()
    township_ids: frozenset[int] = frozenset()
    group_ids: frozenset[int] = frozenset()
    exclude_group_ids: frozenset[int] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Targeting:
        data = data or {}
        kinds = frozenset(GroupKind(k) for k in data.get("kinds", ()) if k in _KIND_VALUES)
        return cls(
            kinds=kinds,
            township_ids=_ids(data.get("township_ids", ())),
            group_ids=_ids(data.get("group_ids", ())),
            exclude_group_ids=_ids(data.get("exclude_group_ids", ())),
        )

    def to_json(self) -> dict[str, list[Any]]:
        return {
            "kinds": sorted(k.value for k in self.kinds),
            "township_ids": sorted(self.township_ids),
            "group_ids": sorted(self.group_ids),
            "exclude_group_ids": sorted(self.exclude_group_ids),
        }

    @property
    def is_empty(self) -> bool:
        return not (self.kinds or self.township_ids or self.group_ids)

    def selects(self, group: WeChatGroup) -> bool:
        if not group.active or group.id in self.exclude_group_ids:
            return False
        if group.id in self.group_ids:
            return True
        by_rule = bool(self.kinds or self.township_ids)
        kind_ok = not self.kinds or group.kind in self.kinds
        town_ok = not self.township_ids or group.township_id in self.township_ids
        return by_rule and kind_ok and town_ok


@dataclass(frozen=True)
class KindCount:
    groups: int = 0
    members: int = 0


@dataclass(frozen=True)
class TargetPreview:
    groups: list[WeChatGroup]
    by_kind: dict[GroupKind, KindCount]
    excluded: list[WeChatGroup] = field(default_factory=list)

    @property
    def total_groups(self) -> int:
        return len(self.groups)

    @property
    def total_members(self) -> int:
        return sum(count.members for count in self.by_kind.values())

    @property
    def kinds(self) -> frozenset[GroupKind]:
        return frozenset(group.kind for group in self.groups)


def all_groups(db: Session) -> list[WeChatGroup]:
    return list(db.scalars(select(WeChatGroup).order_by(WeChatGroup.kind, WeChatGroup.name, WeChatGroup.id)))


def resolve(db: Session, targeting: Targeting) -> list[WeChatGroup]:
    """The active groups the selection picks, in a stable order."""
    return [group for group in all_groups(db) if targeting.selects(group)]


def preview(db: Session, targeting: Targeting) -> TargetPreview:
    """What a selection reaches: the groups, counts (groups and members) per kind, and the exclusions."""
    groups = resolve(db, targeting)
    by_kind: dict[GroupKind, KindCount] = {}
    for group in groups:
        seen = by_kind.get(group.kind, KindCount())
        by_kind[group.kind] = KindCount(seen.groups + 1, seen.members + group.member_count)
    excluded = [g for g in all_groups(db) if g.id in targeting.exclude_group_ids]
    return TargetPreview(groups, dict(sorted(by_kind.items())), excluded)


# -- the registry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInput:
    name: str
    kind: GroupKind
    township_id: int | None = None
    webhook_key: str = ""  # on update, "" keeps the stored key
    chat_id: str = ""
    owner_userid: str = ""
    tag_id: int | None = None
    owner_staff_id: int | None = None
    member_count: int = 0
    active: bool = True


def robot_key_from(value: str) -> str:
    """The key itself, also when staff paste the whole webhook address."""
    value = value.strip()
    if "://" in value:
        value = parse_qs(urlsplit(value).query).get("key", [""])[0]
    return value


def mask_key(key: str | None) -> str:
    if not key:
        return ""
    return f"{key[:4]}…{key[-4:]}" if len(key) > 10 else "…"


def _check(db: Session, data: GroupInput, existing: WeChatGroup | None) -> None:
    if not data.name.strip():
        raise TargetError("请填写群名称。")
    if data.member_count < 0:
        raise TargetError("群人数不能为负数。")
    kind = data.kind
    if kind == GroupKind.WECOM_ROBOT:
        key = robot_key_from(data.webhook_key)
        if key and not _ROBOT_KEY.fullmatch(key):
            raise TargetError(
                "群机器人 webhook key 格式不对：应为机器人地址中 key= 之后的字母、数字和连字符。"
            )
        if not key and not (existing and existing.webhook_key):
            raise TargetError("群机器人需要填写 webhook key。")
    elif kind == GroupKind.WECOM_APPCHAT and not _CHAT_ID.fullmatch(data.chat_id.strip()):
        raise TargetError("企业微信群聊需要填写 chatid（1 至 32 位字母或数字）。")
    elif kind == GroupKind.WECOM_CUSTOMER_GROUP and not data.owner_userid.strip():
        raise TargetError("客户群需要填写群主的企业微信账号（userid）。")
    elif kind == GroupKind.OA_TAG and (data.tag_id is None or data.tag_id < 0):
        raise TargetError("公众号目标需要填写标签 ID（0 表示全部关注者）。")
    elif kind == GroupKind.MANUAL:
        owner = db.get(StaffUser, data.owner_staff_id) if data.owner_staff_id else None
        if owner is None or not owner.active:
            raise TargetError("人工转发的群需要指定负责转发的工作人员。")


def save_group(db: Session, actor: Actor, group: WeChatGroup | None, data: GroupInput) -> WeChatGroup:
    """Create (``group`` None) or update a group; fields other kinds do not use are cleared."""
    _check(db, data, group)
    created = group is None
    group = group or WeChatGroup(name=data.name.strip(), kind=data.kind)
    kind = data.kind
    key = robot_key_from(data.webhook_key)
    group.name, group.kind = data.name.strip()[:100], kind
    group.township_id = data.township_id
    group.member_count, group.active = data.member_count, data.active
    if kind != GroupKind.WECOM_ROBOT:
        group.webhook_key = None
    elif key:
        group.webhook_key = key
    group.chat_id = data.chat_id.strip() if kind == GroupKind.WECOM_APPCHAT else ""
    group.owner_userid = data.owner_userid.strip() if kind == GroupKind.WECOM_CUSTOMER_GROUP else ""
    group.tag_id = data.tag_id if kind == GroupKind.OA_TAG else None
    group.owner_staff_id = data.owner_staff_id if kind == GroupKind.MANUAL else None
    db.add(group)
    db.flush()
    audit.record(
        db,
        actor,
        "wechat_group.create" if created else "wechat_group.update",
        record_type="wechat_group",
        record_id=group.id,
        name=group.name,
        kind=kind.value,
        key_changed=bool(key),  # whether, never what
    )
    return group


# -- saved audiences ------------------------------------------------------------------------------------


def list_audiences(db: Session) -> Sequence[AdvisoryAudience]:
    return db.scalars(select(AdvisoryAudience).order_by(AdvisoryAudience.name)).all()


def save_audience(
    db: Session, actor: Actor, audience: AdvisoryAudience | None, name: str, targeting: Targeting
) -> AdvisoryAudience:
    name = name.strip()
    if not name:
        raise TargetError("请填写受众名称。")
    if targeting.is_empty:
        raise TargetError("请至少选择一种群类型、一个乡镇或一个群。")
    clash = db.scalar(select(AdvisoryAudience).where(AdvisoryAudience.name == name))
    if clash is not None and clash is not audience:
        raise TargetError(f"已有名为「{name}」的受众。")
    created = audience is None
    audience = audience or AdvisoryAudience(name=name)
    audience.name, audience.targets = name[:100], targeting.to_json()
    db.add(audience)
    db.flush()
    action = "advisory_audience.create" if created else "advisory_audience.update"
    audit.record(db, actor, action, record_type="advisory_audience", record_id=audience.id, name=name)
    return audience


def forwarders(db: Session) -> Sequence[StaffUser]:
    """Staff who may own a manual-forwarding group (active accounts)."""
    return db.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username)).all()
