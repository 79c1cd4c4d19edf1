"""Chinese labels of the data model's values, shared by the panel's pages and its exports."""

from __future__ import annotations

from enum import StrEnum

from bot.models import (
    CheckinStatus,
    ClusterStatus,
    ContactMethod,
    Health,
    LeadPriority,
    LeadSource,
    LeadStatus,
    OutboxStatus,
    ResidentStatus,
    VisitOutcome,
)

LABELS: dict[str, dict[str, str]] = {
    "checkin_status": {
        CheckinStatus.PENDING: "未发送",
        CheckinStatus.PROMPTED: "已发送未回复",
        CheckinStatus.IN_PROGRESS: "回复中",
        CheckinStatus.ANSWERED: "已签到",
        CheckinStatus.PHONE_LIST: "待电话回访",
        CheckinStatus.REACHED_BY_PHONE: "电话已联系",
        CheckinStatus.NOT_REACHED: "电话未接通",
    },
    "health": {
        Health.NORMAL: "正常",
        Health.FEVER: "发热",
        Health.SYMPTOMS: "有症状",
        Health.TREATED: "已就医/隔离",
    },
    "contact_method": {
        ContactMethod.WECHAT: "微信",
        ContactMethod.H5: "网页签到",
        ContactMethod.PHONE: "电话",
        ContactMethod.IN_PERSON: "上门",
    },
    "visit_outcome": {
        VisitOutcome.REACHED: "已联系",
        VisitOutcome.NOT_REACHED: "未联系上",
        VisitOutcome.WRONG_NUMBER: "号码错误",
    },
    "phone_reason": {"silent": "未回复", "unclear": "回复不清", "unbound": "未绑定微信"},
    "resident_status": {
        ResidentStatus.AWAY: "在外",
        ResidentStatus.MONITORING: "返乡观察中",
        ResidentStatus.CLOSED: "已解除",
    },
    "lead_status": {LeadStatus.OPEN: "待处理", LeadStatus.IN_PROGRESS: "处理中", LeadStatus.DONE: "已办结"},
    "lead_priority": {LeadPriority.HIGH: "紧急", LeadPriority.NORMAL: "一般"},
    "lead_source": {LeadSource.CHECKIN: "签到异常", LeadSource.TIP: "谣言举报"},
    "cluster_status": {
        ClusterStatus.PENDING: "待审核",
        ClusterStatus.INVESTIGATING: "核查中",
        ClusterStatus.RUMOR: "谣言",
        ClusterStatus.TRUE: "属实",
        ClusterStatus.UNVERIFIABLE: "无法核实",
        ClusterStatus.DISMISSED: "不予处理",
    },
    "outbox_status": {
        OutboxStatus.QUEUED: "排队中",
        OutboxStatus.SENDING: "发送中",
        OutboxStatus.SENT: "已发送",
        OutboxStatus.FAILED: "发送失败",
        OutboxStatus.CANCELLED: "已取消",
    },
}


def label(vocabulary: str, value: str | StrEnum | None) -> str:
    """The Chinese label of ``value``; an unknown value shows as itself, None as empty."""
    if value is None:
        return ""
    return LABELS.get(vocabulary, {}).get(str(value), str(value))
