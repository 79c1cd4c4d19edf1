"""Daily reports, their submissions and their level-by-level approvals.

Each submission opens a new round; the approvals of earlier rounds stay as history. The
figures are stored on the report, so an approved report is frozen as it was signed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, UTCDateTime, json_type, str_enum, utcnow
from bot.models.enums import Decision, ReportStatus
from bot.models.staff import StaffUser


class DailyReport(Timestamps, Base):
    __tablename__ = "daily_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.DRAFT)
    figures: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the figures were computed
    # The current submission (0 = never submitted) and the steps of its chain approved so far.
    round: Mapped[int] = mapped_column(Integer, default=0)
    approval_step: Mapped[int] = mapped_column(Integer, default=0)
    # The approval titles as configured when submitted: a config change never reshapes a running chain.
    chain: Mapped[list[str]] = mapped_column(json_type(), default=list)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approvals: Mapped[list[ReportApproval]] = relationship(order_by="ReportApproval.id")
    submissions: Mapped[list[ReportSubmission]] = relationship(order_by="ReportSubmission.id")


class ReportSubmission(Base):
    """The data clerk sending the report (again) to the chain: one per round."""

    __tablename__ = "report_submissions"
    __table_args__ = (UniqueConstraint("report_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("daily_reports.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submitted_by: Mapped[StaffUser] = relationship()


class ReportApproval(Base):
    __tablename__ = "report_approvals"
    # One decision per step of a round, whoever clicks first (two leaders at once: one wins).
    __table_args__ = (UniqueConstraint("report_id", "round", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("daily_reports.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[int] = mapped_column(Integer)
    step_title: Mapped[str] = mapped_column(String(64))
    approver_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    approver: Mapped[StaffUser] = relationship()
