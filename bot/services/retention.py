"""Retention: personal fields are erased once their purpose has ended, aggregates stay.

A resident whose monitoring closed more than ``[privacy] retention_days`` ago loses name,
identifiers, addresses, note, WeChat binding and message contents; their check-ins and visits
stay (by day and station) so the county's figures remain right. Tips decided that long ago lose
who reported them (bot.services.tips.purge_reporters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import ConversationState, InboundMessage, Resident, ResidentStatus, WeChatIdentity
from bot.services import audit, tips
from bot.services.audit import SYSTEM

PURGED_NAME = "（已清除）"


@dataclass(frozen=True)
class Purged:
    residents: int
    tips: int
    form_hits: int


def expired_residents(db: Session, settings: Settings, now: datetime) -> list[Resident]:
    cutoff = (now - timedelta(days=settings.privacy.retention_days)).date()
    return list(
        db.scalars(
            select(Resident).where(
                Resident.status == ResidentStatus.CLOSED,
                Resident.closed_on < cutoff,
                Resident.purged_at.is_(None),
            )
        )
    )


def purge_resident(db: Session, resident: Resident, now: datetime) -> None:
    for identity in db.scalars(select(WeChatIdentity).where(WeChatIdentity.resident_id == resident.id)):
        db.execute(
            update(InboundMessage)
            .where(InboundMessage.account == identity.account, InboundMessage.sender == identity.openid)
            .values(content="")
        )
        db.execute(delete(ConversationState).where(ConversationState.identity_id == identity.id))
        identity.resident_id, identity.nickname = None, ""
    resident.name = PURGED_NAME
    resident.id_number = resident.id_number_hash = resident.phone = resident.phone_hash = None
    resident.household_address = resident.current_address = resident.note = resident.away_reason = ""
    resident.purged_at = now


def purge_expired(db: Session, settings: Settings, now: datetime) -> Purged:
    residents = expired_residents(db, settings, now)
    for resident in residents:
        purge_resident(db, resident, now)
    purged_tips = tips.purge_reporters(db, settings, now)
    hits = tips.purge_form_hits(db, now)
    if residents or purged_tips:
        audit.record(
            db,
            SYSTEM,
            "retention.purge",
            residents=len(residents),
            tips=purged_tips,
            retention_days=settings.privacy.retention_days,
        )
    return Purged(len(residents), purged_tips, hits)
