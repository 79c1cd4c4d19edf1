"""Rumor tips from the public, their clusters, media and review history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, str_enum, utcnow
from bot.models.enums import ClusterStatus, TipChannel


class TipCluster(Timestamps, Base):
    __tablename__ = "tip_clusters"
    __table_args__ = (Index("ix_tip_clusters_status_last", "status", "last_seen"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    summary: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ClusterStatus] = mapped_column(str_enum(ClusterStatus), default=ClusterStatus.PENDING)
    reason: Mapped[str] = mapped_column(Text, default="")
    debunk_text: Mapped[str] = mapped_column(Text, default="")
    tip_count: Mapped[int] = mapped_column(Integer, default=0)
    reporter_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)  # T20200215-0042
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("tip_clusters.id"), index=True)
    channel: Mapped[TipChannel] = mapped_column(str_enum(TipChannel))
    reporter_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("wechat_identities.id", ondelete="SET NULL"), index=True
    )
    # A keyed hash of who reported (openid or form client), for limits and blocking only.
    reporter_hash: Mapped[str] = mapped_column(String(64), index=True)
    reporter_contact: Mapped[str | None] = mapped_column(EncryptedString)
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    normalized_url: Mapped[str] = mapped_column(String(1000), default="")
    seen_where: Mapped[str] = mapped_column(String(200), default="")
    seen_when: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cluster: Mapped[TipCluster | None] = relationship()


class TipMedia(Base):
    __tablename__ = "tip_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | voice | file
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    phash: Mapped[str] = mapped_column(String(32), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TipReview(Base):
    """The review history of a cluster: assignment, status changes, merges and splits."""

    __tablename__ = "tip_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("tip_clusters.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(24), default="")
    to_status: Mapped[str] = mapped_column(String(24), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
