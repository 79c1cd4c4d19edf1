"""Daily check-ins (one per resident per day) and visits (every contact)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, UTCDateTime, str_enum, utcnow
from bot.models.enums import CheckinStatus, ContactMethod, Health, VisitOutcome
from bot.models.resident import Resident


class Checkin(Timestamps, Base):
    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("resident_id", "day"),
        # Trailing columns make the dashboard's GROUP BYs index-only (bench: 13,000 x 90 days).
        Index("ix_checkins_day_status", "day", "status", "abnormal", "station_id"),
        Index("ix_checkins_day_station", "day", "station_id", "status", "abnormal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    # Denormalised from the resident at creation, so daily counts by station need no join.
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[CheckinStatus] = mapped_column(str_enum(CheckinStatus), default=CheckinStatus.PENDING)
    channel: Mapped[ContactMethod | None] = mapped_column(str_enum(ContactMethod))
    health: Mapped[Health | None] = mapped_column(str_enum(Health))
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    whereabouts_unchanged: Mapped[bool | None] = mapped_column(Boolean)
    whereabouts_city: Mapped[str] = mapped_column(String(64), default="")
    return_plan: Mapped[str] = mapped_column(String(16), default="")  # date | returned | undecided
    return_date: Mapped[date | None] = mapped_column(Date)
    abnormal: Mapped[bool] = mapped_column(Boolean, default=False)
    unclear_replies: Mapped[int] = mapped_column(Integer, default=0)
    prompted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_list_reason: Mapped[str] = mapped_column(String(32), default="")  # silent | unclear | unbound

    resident: Mapped[Resident] = relationship()


class Visit(Base):
    """One contact with a resident: a WeChat check-in answered, a call, an in-person visit."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_day_station", "day", "station_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[ContactMethod] = mapped_column(str_enum(ContactMethod))
    outcome: Mapped[VisitOutcome] = mapped_column(str_enum(VisitOutcome))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    health: Mapped[Health | None] = mapped_column(str_enum(Health))
    whereabouts: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    resident: Mapped[Resident] = relationship()
