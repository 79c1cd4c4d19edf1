"""WeChat identities (one per openid and account), QR scenes, and shared access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, EncryptedString, Timestamps, UTCDateTime, utcnow
from bot.models.resident import Resident


class WeChatIdentity(Timestamps, Base):
    __tablename__ = "wechat_identities"
    __table_args__ = (UniqueConstraint("account", "openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))  # Official Account appid or WeCom corpid
    openid: Mapped[str] = mapped_column(String(128))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    # One WeChat identity per resident, and one resident per identity.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), unique=True
    )
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer-service window: opened for 48 h by a user message, at most 5 sends in it.
    last_user_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_sends: Mapped[int] = mapped_column(Integer, default=0)
    bind_failures: Mapped[int] = mapped_column(Integer, default=0)
    bind_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by scanning a station's QR code: binding then only matches that station's residents.
    bind_station_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id", ondelete="SET NULL"))
    tips_blocked: Mapped[bool] = mapped_column(Boolean, default=False)

    resident: Mapped[Resident | None] = relationship()


class QrScene(Base):
    """A parametric QR code: scanning it to follow binds a resident or starts binding at a station."""

    __tablename__ = "qr_scenes"

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    ticket: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessToken(Base):
    """The one shared access token per app, refreshed in one place (see bot.channels.tokens)."""

    __tablename__ = "access_tokens"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # e.g. "oa:<appid>"
    token: Mapped[str] = mapped_column(EncryptedString)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetch_count: Mapped[int] = mapped_column(Integer, default=0)
