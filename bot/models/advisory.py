"""WeChat groups, advisory letters, their approvals, audiences, deliveries and reach."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, json_type, str_enum, utcnow
from bot.models.enums import AdvisoryStatus, Decision, DeliveryStatus, GroupKind, OutboxStatus, ReachKind
from bot.models.staff import StaffUser

if TYPE_CHECKING:
    from bot.models.messaging import OutboxMessage


class WeChatGroup(Timestamps, Base):
    __tablename__ = "wechat_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[GroupKind] = mapped_column(str_enum(GroupKind))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    webhook_key: Mapped[str | None] = mapped_column(EncryptedString)  # WeCom group robot
    chat_id: Mapped[str] = mapped_column(String(64), default="")  # WeCom app chat
    owner_userid: Mapped[str] = mapped_column(String(64), default="")  # WeCom customer group owner
    tag_id: Mapped[int | None] = mapped_column(Integer)  # Official Account tag; 0 = all followers
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))  # manual forwarding
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    owner_staff: Mapped[StaffUser | None] = relationship()


class AdvisoryTemplate(Timestamps, Base):
    __tablename__ = "advisory_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default="text")  # text | markdown


class AdvisoryAudience(Timestamps, Base):
    """A saved selection of groups (e.g. all township robots), copied into an advisory when chosen."""

    __tablename__ = "advisory_audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # {"kinds": [...], "township_ids": [...], "group_ids": [...], "exclude_group_ids": [...]}
    targets: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


class Advisory(Timestamps, Base):
    __tablename__ = "advisories"
    __table_args__ = (Index("ix_advisories_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default="text")  # text | markdown
    cover_image: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # re-encoded JPEG or PNG
    cover_type: Mapped[str] = mapped_column(String(32), default="")  # its content type; "" = no cover
    link_url: Mapped[str] = mapped_column(String(500), default="")
    # The targets as composed (same shape as AdvisoryAudience.targets); approved together with the text.
    targets: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    status: Mapped[AdvisoryStatus] = mapped_column(str_enum(AdvisoryStatus), default=AdvisoryStatus.DRAFT)
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Each submission opens a new round of approvals; returned advisories are resubmitted.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    approval_step: Mapped[int] = mapped_column(Integer, default=0)  # steps of the chain approved so far
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first outbox rows were written
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # every target reached a final state
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[StaffUser | None] = relationship()
    approvals: Mapped[list[AdvisoryApproval]] = relationship(
        back_populates="advisory", order_by="AdvisoryApproval.id"
    )


class AdvisoryApproval(Base):
    __tablename__ = "advisory_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(24), default="")  # the chain's role for this step
    approver_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    advisory: Mapped[Advisory] = relationship(back_populates="approvals")
    approver: Mapped[StaffUser] = relationship()


class Delivery(Timestamps, Base):
    """One advisory to one group (or one forwarder), with its own share token.

    Its state is derived, never stored twice: the outbox row says queued/sent/failed/cancelled,
    ``forwarded_at`` says a manual-forwarding task was done (see ``status``)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("advisory_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("wechat_groups.id"), index=True)
    share_token: Mapped[str] = mapped_column(String(32), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    group: Mapped[WeChatGroup] = relationship()
    advisory: Mapped[Advisory] = relationship()
    outbox: Mapped[OutboxMessage | None] = relationship()

    @property
    def status(self) -> DeliveryStatus:
        return delivery_status(
            self.group.kind,
            self.outbox.status if self.outbox is not None else None,
            forwarded=self.forwarded_at is not None,
            advisory_cancelled=self.advisory.cancelled_at is not None,
        )


_FROM_OUTBOX = {
    OutboxStatus.QUEUED: DeliveryStatus.QUEUED,
    OutboxStatus.SENDING: DeliveryStatus.QUEUED,
    OutboxStatus.SENT: DeliveryStatus.SENT,
    OutboxStatus.FAILED: DeliveryStatus.FAILED,
    OutboxStatus.CANCELLED: DeliveryStatus.CANCELLED,
}


def delivery_status(
    kind: GroupKind, outbox_status: OutboxStatus | None, *, forwarded: bool, advisory_cancelled: bool
) -> DeliveryStatus:
    """A target's state from its outbox row; a manual-forwarding target waits for its owner instead."""
    if kind != GroupKind.MANUAL:
        return _FROM_OUTBOX[outbox_status] if outbox_status is not None else DeliveryStatus.QUEUED
    if forwarded:
        return DeliveryStatus.FORWARDED
    if advisory_cancelled or outbox_status == OutboxStatus.CANCELLED:
        return DeliveryStatus.CANCELLED
    if outbox_status == OutboxStatus.FAILED:  # the owner's notice did not go: resend it
        return DeliveryStatus.FAILED
    return DeliveryStatus.AWAITING_FORWARD


class ReachEvent(Base):
    """An open, a share or an acknowledgement of an advisory, per delivery when known."""

    __tablename__ = "reach_events"
    __table_args__ = (
        Index("ix_reach_events_advisory_kind", "advisory_id", "kind"),
        Index("ix_reach_events_delivery", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    kind: Mapped[ReachKind] = mapped_column(str_enum(ReachKind))
    # A keyed hash of the client (never the raw address), to count repeated opens once.
    client_hash: Mapped[str] = mapped_column(String(64), default="")
    # What makes two events the same (kind, advisory, delivery, client and day): counted once.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
