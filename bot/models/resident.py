"""Residents registered in the county and away from home (or back and monitored)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, str_enum
from bot.models.enums import ResidentStatus
from bot.models.jurisdiction import Jurisdiction


class Resident(Timestamps, Base):
    __tablename__ = "residents"
    __table_args__ = (Index("ix_residents_station_status", "station_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Identifiers: encrypted, with a keyed hash for lookup and uniqueness (bot.privacy).
    id_number: Mapped[str | None] = mapped_column(EncryptedString)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(EncryptedString)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    gender: Mapped[str] = mapped_column(String(2), default="")
    birth_year: Mapped[int | None] = mapped_column()
    household_address: Mapped[str] = mapped_column(String(255), default="")
    current_city: Mapped[str] = mapped_column(String(64), default="")
    current_address: Mapped[str] = mapped_column(String(255), default="")
    away_since: Mapped[date | None] = mapped_column(Date)
    away_reason: Mapped[str] = mapped_column(String(255), default="")
    expected_return: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date, index=True)  # "returned today" on the dashboard
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    township_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[ResidentStatus] = mapped_column(str_enum(ResidentStatus), default=ResidentStatus.AWAY)
    monitoring_start: Mapped[date | None] = mapped_column(Date)
    monitoring_end: Mapped[date | None] = mapped_column(Date, index=True)
    closed_reason: Mapped[str] = mapped_column(String(255), default="")
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # Set when retention purged the personal fields; the row stays for aggregates.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Jurisdiction] = relationship(foreign_keys=[station_id])
    township: Mapped[Jurisdiction] = relationship(foreign_keys=[township_id])
