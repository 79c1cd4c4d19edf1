"""WeChat groups, advisory letters, their approvals, deliveries and reach."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, str_enum, utcnow
from bot.models.enums import AdvisoryStatus, Decision, DeliveryStatus, GroupKind, ReachKind


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


class AdvisoryTemplate(Timestamps, Base):
    __tablename__ = "advisory_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class Advisory(Timestamps, Base):
    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default="text")  # text | markdown
    cover_media_id: Mapped[str] = mapped_column(String(128), default="")
    link_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[AdvisoryStatus] = mapped_column(str_enum(AdvisoryStatus), default=AdvisoryStatus.DRAFT)
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approval_step: Mapped[int] = mapped_column(Integer, default=0)  # steps of the chain approved so far
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approvals: Mapped[list[AdvisoryApproval]] = relationship(
        back_populates="advisory", order_by="AdvisoryApproval.id"
    )


class AdvisoryApproval(Base):
    __tablename__ = "advisory_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    advisory: Mapped[Advisory] = relationship(back_populates="approvals")


class Delivery(Timestamps, Base):
    """One advisory to one group (or one forwarder), with its own share token."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("advisory_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("wechat_groups.id"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.QUEUED)
    share_token: Mapped[str] = mapped_column(String(32), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(String(255), default="")

    group: Mapped[WeChatGroup] = relationship()


class ReachEvent(Base):
    """An open, a share or an acknowledgement of an advisory, per delivery when known."""

    __tablename__ = "reach_events"
    __table_args__ = (Index("ix_reach_events_advisory_kind", "advisory_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    kind: Mapped[ReachKind] = mapped_column(str_enum(ReachKind))
    # A keyed hash of the client (never the raw address), to count repeated opens once.
    client_hash: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
