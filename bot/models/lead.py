"""Leads: work for a police station, from an abnormal check-in or a tip."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, UTCDateTime, str_enum
from bot.models.enums import LeadPriority, LeadSource, LeadStatus
from bot.models.jurisdiction import Jurisdiction


class Lead(Timestamps, Base):
    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_station_status", "station_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[LeadSource] = mapped_column(str_enum(LeadSource))
    # What made it, so the same cause never makes two leads: e.g. checkin:<id>:fever.
    cause_key: Mapped[str] = mapped_column(String(120), unique=True)
    priority: Mapped[LeadPriority] = mapped_column(str_enum(LeadPriority), default=LeadPriority.NORMAL)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("tip_clusters.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.OPEN)
    due_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Jurisdiction] = relationship()
