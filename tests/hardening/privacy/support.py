"""Shared by the privacy hardening tests: the demo loaded into a database, and its secrets listed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import demo
from bot.config import Settings
from bot.models import Resident, TipChannel
from bot.services import tips

DEMO_RESIDENTS = 300
REPORTER_CONTACT = "举报人微信 tipster_lanxi_7731，电话 13700137731"


def seed_demo(db: Session, settings: Settings) -> None:
    """The small demo, plus a tip whose reporter left a contact (the demo's tips have none)."""
    assert demo.seed(db, settings, residents=DEMO_RESIDENTS)
    tips.submit(
        db,
        settings,
        tips.NewTip(
            channel=TipChannel.FORM,
            reporter_hash=tips.reporter_hash_of_client("198.51.100.7"),
            text="群里说县医院封了，不知真假",
            contact=REPORTER_CONTACT,
        ),
        now=datetime.now(UTC),
    )


def resident_identifiers(db: Session) -> set[str]:
    """Every ID number and phone of the residents, read (decrypted) through the ORM."""
    found: set[str] = set()
    for person in db.scalars(select(Resident)):
        found.update(v for v in (person.id_number, person.phone) if v)
    return found


def hits(haystack: bytes | str, needles: set[str]) -> list[str]:
    text = haystack if isinstance(haystack, str) else haystack.decode("utf-8", errors="replace")
    return sorted(n for n in needles if n in text)
