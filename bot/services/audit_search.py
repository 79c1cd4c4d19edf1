"""Searching the audit log by person, record, action and time, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from bot.clock import local_datetime
from bot.models import AuditEvent, StaffUser
from bot.services.residents import Page

PER_PAGE = 50

ACTION_TITLES: dict[str, str] = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.logout": "退出登录",
    "resident.view": "查看人员",
    "resident.edit": "修改人员信息",
    "resident.transfer": "转移派出所",
    "resident.import": "导入更新人员",
    "resident.monitoring_start": "开始居家观察",
    "resident.monitoring_closed": "观察期满解除",
    "resident.list": "接口查询人员",
    "pii.reveal": "查看完整号码",
    "export": "导出名单",
    "staff.create": "创建账号",
    "staff.role_change": "变更角色或辖区",
    "staff.enable": "启用账号",
    "staff.disable": "停用账号",
    "staff.password_change": "修改密码",
    "api_token.create": "创建接口令牌",
    "api_token.revoke": "吊销接口令牌",
}


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""  # a username, or "system" / "cli"
    record_type: str = ""
    record_id: str = ""
    action: str = ""  # an action, or a family such as "resident" (resident.*)
    since: date | None = None  # local days, inclusive
    until: date | None = None
    page: int = 1

    def params(self, **changes: object) -> dict[str, str]:
        values: dict[str, object] = {
            "actor": self.actor,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "page": self.page if self.page > 1 else "",
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_query(args: Mapping[str, str]) -> AuditQuery:
    try:
        page = max(int(args.get("page") or 1), 1)
    except ValueError:
        page = 1
    return AuditQuery(
        actor=args.get("actor", "").strip()[:64],
        record_type=args.get("record_type", "").strip()[:32],
        record_id=args.get("record_id", "").strip()[:64],
        action=args.get("action", "").strip()[:48],
        since=_date(args.get("since")),
        until=_date(args.get("until")),
        page=page,
    )


def _filtered(db: Session, query: AuditQuery, tz: ZoneInfo) -> Select[AuditEvent]:
    stmt = select(AuditEvent)
    if query.actor:
        # Staff by id (indexed with the time); "system", "cli" and deleted accounts by label.
        user_id = db.scalar(select(StaffUser.id).where(StaffUser.username == query.actor))
        stmt = stmt.where(
            AuditEvent.actor_id == user_id if user_id else AuditEvent.actor_label == query.actor
        )
    if query.record_type:
        stmt = stmt.where(AuditEvent.record_type == query.record_type)
    if query.record_id:
        stmt = stmt.where(AuditEvent.record_id == query.record_id)
    if query.action:
        family = query.action.rstrip(".") + "."
        stmt = stmt.where(or_(AuditEvent.action == query.action, AuditEvent.action.startswith(family)))
    if query.since:
        stmt = stmt.where(AuditEvent.at >= local_datetime(query.since, time(0), tz))
    if query.until:
        stmt = stmt.where(AuditEvent.at < local_datetime(query.until + timedelta(days=1), time(0), tz))
    return stmt


def search(db: Session, query: AuditQuery, tz: ZoneInfo, per_page: int = PER_PAGE) -> Page:
    """A page of matching events, newest first (``Page.items`` are AuditEvents)."""
    stmt = _filtered(db, query, tz)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(query.page, pages)
    items = list(
        db.scalars(stmt.order_by(AuditEvent.id.desc()).limit(per_page).offset((number - 1) * per_page))
    )
    return Page(items, total, number, per_page)


def known_actions(db: Session) -> list[str]:
    """Actions that occur in the log, for the search form's picker."""
    found = set(db.scalars(select(AuditEvent.action).distinct()))
    return sorted(found | set(ACTION_TITLES))


def describe(action: str) -> str:
    return ACTION_TITLES.get(action, action)


def detail_text(detail: Mapping[str, Any]) -> str:
    """The detail as ``key=value`` pairs (callers already masked identifiers in it)."""
    return "；".join(f"{k}={v}" for k, v in detail.items())
