"""What each role may do. The panel, the API and the CLI all ask here."""

from __future__ import annotations

from enum import StrEnum

from bot.models import Role


class Permission(StrEnum):
    VIEW_DASHBOARD = "dashboard.view"
    VIEW_RESIDENTS = "residents.view"
    EDIT_RESIDENTS = "residents.edit"
    IMPORT_RESIDENTS = "residents.import"
    REVEAL_PII = "pii.reveal"
    EXPORT = "export"
    EXPORT_UNMASKED = "export.unmasked"
    RECORD_VISITS = "visits.record"
    COMPOSE_ADVISORIES = "advisories.compose"
    APPROVE_ADVISORIES = "advisories.approve"
    VIEW_ADVISORIES = "advisories.view"
    REVIEW_TIPS = "tips.review"
    VIEW_LEADS = "leads.view"
    WORK_LEADS = "leads.work"
    VIEW_REPORTS = "reports.view"
    PREPARE_REPORTS = "reports.prepare"
    APPROVE_REPORTS = "reports.approve"
    VIEW_AUDIT = "audit.view"
    MANAGE_STAFF = "staff.manage"
    USE_SIMULATOR = "simulator.use"


P = Permission
_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.LEADER: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_RESIDENTS,
            P.EXPORT,
            P.VIEW_ADVISORIES,
            P.APPROVE_ADVISORIES,
            P.VIEW_LEADS,
            P.VIEW_REPORTS,
            P.APPROVE_REPORTS,
            P.VIEW_AUDIT,
        }
    ),
    Role.DATA_CLERK: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_RESIDENTS,
            P.EDIT_RESIDENTS,
            P.IMPORT_RESIDENTS,
            P.REVEAL_PII,
            P.EXPORT,
            P.EXPORT_UNMASKED,
            P.RECORD_VISITS,
            P.VIEW_LEADS,
            P.VIEW_REPORTS,
            P.PREPARE_REPORTS,
            P.VIEW_ADVISORIES,
        }
    ),
    Role.PROPAGANDA: frozenset({P.VIEW_DASHBOARD, P.VIEW_ADVISORIES, P.COMPOSE_ADVISORIES, P.USE_SIMULATOR}),
    Role.CYBER_POLICE: frozenset(
        {P.VIEW_DASHBOARD, P.REVIEW_TIPS, P.VIEW_LEADS, P.EXPORT, P.VIEW_ADVISORIES}
    ),
    Role.STATION_OFFICER: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_RESIDENTS,
            P.REVEAL_PII,
            P.RECORD_VISITS,
            P.VIEW_LEADS,
            P.WORK_LEADS,
            P.EXPORT,
        }
    ),
}

ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.LEADER: "局领导",
    Role.DATA_CLERK: "数据组",
    Role.PROPAGANDA: "宣传",
    Role.CYBER_POLICE: "网警",
    Role.STATION_OFFICER: "派出所民警",
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return _ROLE_PERMISSIONS[role]


def has(role: Role, permission: Permission) -> bool:
    return permission in _ROLE_PERMISSIONS[role]
