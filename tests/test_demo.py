"""The demo data is realistic: valid ID numbers, phones, spread over stations and 14 days."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.demo import HISTORY_DAYS, id_check_digit, seed
from bot.models import Checkin, Jurisdiction, JurisdictionKind, Resident, Visit, WeChatGroup, WeChatIdentity


def test_seed_small_demo(db: Session, base_settings: Settings) -> None:
    assert seed(db, base_settings, residents=150)
    assert not seed(db, base_settings, residents=150)  # idempotent
    people = list(db.scalars(select(Resident)))
    assert len(people) == 150
    for person in people:
        assert person.id_number is not None and person.phone is not None
        assert re.fullmatch(r"231222\d{11}[\dX]", person.id_number)
        assert id_check_digit(person.id_number[:17]) == person.id_number[17]
        assert re.fullmatch(r"1[3-9]\d{9}", person.phone)
        assert person.away_since is not None and person.away_since.year == 2020
    stations = db.scalar(select(func.count()).where(Jurisdiction.kind == JurisdictionKind.STATION))
    assert stations and stations >= 14
    assert db.scalar(select(func.count(Checkin.id))) == 150 * (HISTORY_DAYS + 1)
    assert (db.scalar(select(func.count(Visit.id))) or 0) > 150 * HISTORY_DAYS * 0.8
    bound = db.scalar(select(func.count(WeChatIdentity.id))) or 0
    assert 0.6 * 150 < bound < 0.95 * 150
    assert (db.scalar(select(func.count(WeChatGroup.id))) or 0) >= 28
