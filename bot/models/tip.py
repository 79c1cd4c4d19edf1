"""Rumor tips from the public, their clusters, media and review history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, json_type, str_enum, utcnow
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
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    # Where the tips say the rumor was seen (group names, platforms), most reported first.
    seen_places: Mapped[list[str]] = mapped_column(json_type(), default=list)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Raised by each decision, so a corrected verdict reaches the reporters again.
    decision_round: Mapped[int] = mapped_column(Integer, default=0)
    # A reviewer merged this cluster into another; it leaves the queue.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tip_clusters.id"), index=True)
    # The advisory draft made from the debunk text.
    advisory_id: Mapped[int | None] = mapped_column(ForeignKey("advisories.id", ondelete="SET NULL"))


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)  # T20200215-0042
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("tip_clusters.id"), index=True)
    channel: Mapped[TipChannel] = mapped_column(str_enum(TipChannel))
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | link | image | voice
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
    image_phash: Mapped[str] = mapped_column(String(16), default="")
    # WeChat media fetched after the callback answered: "" (none), pending, done, failed.
    media_ref: Mapped[str] = mapped_column(String(256), default="")
    media_state: Mapped[str] = mapped_column(String(16), default="", index=True)
    media_attempts: Mapped[int] = mapped_column(Integer, default=0)
    media_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    media_error: Mapped[str] = mapped_column(String(255), default="")
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
    detail: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TipIndexLog(Base):
    """Every placement or move of a tip, in commit order (written under the placement lock).

    Each process's in-memory clustering index replays the rows after the last it has seen, so
    placements and reviewers' merges in other processes reach it before it places the next tip.
    """

    __tablename__ = "tip_index_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TipCounter(Base):
    """Named counters, e.g. the day's ticket numbers (name "ticket:20200215")."""

    __tablename__ = "tip_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class TipFormHit(Base):
    """A submission of the public form, by a keyed hash of the client address (never the address)."""

    __tablename__ = "tip_form_hits"
    __table_args__ = (Index("ix_tip_form_hits_client_at", "client_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
