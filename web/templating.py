"""Template globals: navigation by role, masking filters, labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request

from bot import privacy
from bot.services.permissions import ROLE_LABELS, Permission
from web.roles import can


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    permission: Permission


# The panel's areas in menu order; the layout shows those registered that the viewer may use.
NAV: tuple[NavItem, ...] = (
    NavItem("dashboard.index", "工作台", Permission.VIEW_DASHBOARD),
    NavItem("residents.index", "人员", Permission.VIEW_RESIDENTS),
    NavItem("checkins.phone_list", "电话回访", Permission.RECORD_VISITS),
    NavItem("leads.index", "线索", Permission.VIEW_LEADS),
    NavItem("tips.queue", "谣言举报", Permission.REVIEW_TIPS),
    NavItem("advisories.index", "倡议书", Permission.VIEW_ADVISORIES),
    NavItem("reports.index", "日报", Permission.VIEW_REPORTS),
    NavItem("audit.index", "审计", Permission.VIEW_AUDIT),
    NavItem("staff.index", "账号", Permission.MANAGE_STAFF),
    NavItem("simulator.index", "模拟器", Permission.USE_SIMULATOR),
)


def _nav() -> list[NavItem]:
    return [item for item in NAV if item.endpoint in current_app.view_functions and can(item.permission)]


def _context() -> dict[str, Any]:
    return {"nav_items": _nav(), "role_labels": ROLE_LABELS, "current_endpoint": request.endpoint, "can": can}


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.jinja_env.filters["mask_phone"] = privacy.mask_phone
    app.jinja_env.filters["mask_id"] = privacy.mask_id_number
    app.jinja_env.filters["mask_name"] = privacy.mask_name
