"""Thin typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from bot.models.advisory import (
    Advisory,
    AdvisoryApproval,
    AdvisoryTemplate,
    Delivery,
    ReachEvent,
    WeChatGroup,
)
from bot.models.audit import AuditEvent, JobRun, Lease
from bot.models.base import Base, utcnow
from bot.models.checkin import Checkin, Visit
from bot.models.enums import *  # noqa: F403 - the enums are part of the models' vocabulary
from bot.models.jurisdiction import Jurisdiction
from bot.models.lead import Lead
from bot.models.messaging import ConversationState, InboundMessage, OutboxMessage
from bot.models.report import DailyReport, ReportApproval, ReportSubmission
from bot.models.resident import Resident
from bot.models.staff import ApiToken, LoginAttempt, StaffSession, StaffUser
from bot.models.tip import Tip, TipCluster, TipCounter, TipFormHit, TipIndexLog, TipMedia, TipReview
from bot.models.wechat import AccessToken, QrScene, WeChatIdentity

__all__ = [
    "AccessToken",
    "Advisory",
    "AdvisoryApproval",
    "AdvisoryTemplate",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Checkin",
    "ConversationState",
    "DailyReport",
    "Delivery",
    "InboundMessage",
    "JobRun",
    "Jurisdiction",
    "Lead",
    "Lease",
    "LoginAttempt",
    "OutboxMessage",
    "QrScene",
    "ReachEvent",
    "ReportApproval",
    "ReportSubmission",
    "Resident",
    "StaffSession",
    "StaffUser",
    "Tip",
    "TipCluster",
    "TipCounter",
    "TipFormHit",
    "TipIndexLog",
    "TipMedia",
    "TipReview",
    "Visit",
    "WeChatGroup",
    "WeChatIdentity",
    "utcnow",
]
