"""Daily reports and their level-by-level approvals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, UTCDateTime, json_type, str_enum, utcnow
from bot.models.enums import Decision, ReportStatus


class DailyReport(Timestamps, Base):
    __tablename__ = "daily_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.DRAFT)
    figures: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    approval_step: Mapped[int] = mapped_column(Integer, default=0)

    approvals: Mapped[list[ReportApproval]] = relationship(order_by="ReportApproval.id")


class ReportApproval(Base):
    __tablename__ = "report_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("daily_reports.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    step_title: Mapped[str] = mapped_column(String(64))
    approver_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
