"""Every closed set of values the data model uses, as StrEnums stored by value."""

from __future__ import annotations

from enum import StrEnum


class JurisdictionKind(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    STATION = "station"


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    DATA_CLERK = "data_clerk"
    PROPAGANDA = "propaganda"
    CYBER_POLICE = "cyber_police"
    STATION_OFFICER = "station_officer"


class ResidentStatus(StrEnum):
    AWAY = "away"  # registered here, away from the county: daily check-in
    MONITORING = "monitoring"  # returned: under observation for monitoring_days
    CLOSED = "closed"  # monitoring ended (reason recorded)


class Health(StrEnum):
    NORMAL = "normal"
    FEVER = "fever"
    SYMPTOMS = "symptoms"
    TREATED = "treated"  # already at a doctor or in quarantine


class CheckinStatus(StrEnum):
    PENDING = "pending"  # created for today, nothing sent yet
    PROMPTED = "prompted"  # the prompt (message or template) is queued or sent
    IN_PROGRESS = "in_progress"  # the resident started answering
    ANSWERED = "answered"
    PHONE_LIST = "phone_list"  # silent at close time, or unclear twice: a call is due
    REACHED_BY_PHONE = "reached_by_phone"
    NOT_REACHED = "not_reached"  # the call was made, nobody answered


class ContactMethod(StrEnum):
    WECHAT = "wechat"
    H5 = "h5"
    PHONE = "phone"
    IN_PERSON = "in_person"


class VisitOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    WRONG_NUMBER = "wrong_number"


class GroupKind(StrEnum):
    WECOM_ROBOT = "wecom_robot"
    WECOM_APPCHAT = "wecom_appchat"
    WECOM_CUSTOMER_GROUP = "wecom_customer_group"
    OA_TAG = "oa_tag"  # an Official Account tag (tag_id 0 = all followers)
    MANUAL = "manual"  # forwarded by hand by its owner


class AdvisoryStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    RETURNED = "returned"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    AWAITING_FORWARD = "awaiting_forward"
    FORWARDED = "forwarded"
    CANCELLED = "cancelled"


class ReachKind(StrEnum):
    OPEN = "open"
    SHARE = "share"
    ACK = "ack"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class TipChannel(StrEnum):
    WECHAT = "wechat"
    FORM = "form"


class ClusterStatus(StrEnum):
    PENDING = "pending"  # 待审核
    INVESTIGATING = "investigating"  # 核查中
    RUMOR = "rumor"  # 谣言
    TRUE = "true"  # 属实
    UNVERIFIABLE = "unverifiable"  # 无法核实
    DISMISSED = "dismissed"  # 不予处理


class LeadSource(StrEnum):
    CHECKIN = "checkin"
    TIP = "tip"


class LeadPriority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class LeadStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ReportStatus(StrEnum):
    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    RETURNED = "returned"
    APPROVED = "approved"


class Decision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"
