"""Factories with sequences: make_* (db, **overrides) -> a flushed model."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot import privacy
from bot.demo import id_check_digit
from bot.models import Jurisdiction, JurisdictionKind, Resident, Role, StaffUser
from bot.services import jurisdictions, staff
from bot.services.audit import SYSTEM

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_station(db: Session, name: str | None = None, township: str | None = None) -> Jurisdiction:
    n = next(_seq)
    county = jurisdictions.county(db)
    town, _ = jurisdictions.upsert_child(db, county, JurisdictionKind.TOWNSHIP, township or f"测试镇{n}")
    station, _ = jurisdictions.upsert_child(db, town, JurisdictionKind.STATION, name or f"测试派出所{n}")
    return station


def make_user(
    db: Session,
    role: Role = Role.ADMIN,
    jurisdiction: Jurisdiction | None = None,
    password: str = PASSWORD,
    **kw: Any,
) -> StaffUser:
    where = jurisdiction or jurisdictions.county(db)
    return staff.create_user(
        db,
        SYSTEM,
        username=kw.pop("username", f"user{next(_seq)}"),
        role=role,
        jurisdiction=where,
        password=password,
        **kw,
    )


def valid_id_number(n: int, born: date = date(1980, 5, 17)) -> str:
    first17 = f"231222{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def make_resident(db: Session, station: Jurisdiction | None = None, **kw: Any) -> Resident:
    n = next(_seq)
    station = station or make_station(db)
    vault = privacy.vault()
    id_number = kw.pop("id_number", valid_id_number(n, date(1950 + n % 50, 1 + n % 12, 1 + n % 28)))
    phone = kw.pop("phone", f"139{n:08d}")
    resident = Resident(
        name=kw.pop("name", f"居民{n}"),
        id_number=id_number,
        id_number_hash=vault.blind_index(id_number, kind="id"),
        phone=phone,
        phone_hash=vault.blind_index(phone, kind="phone"),
        station_id=station.id,
        township_id=station.parent_id,
        current_city=kw.pop("current_city", "哈尔滨"),
        **kw,
    )
    db.add(resident)
    db.flush()
    return resident


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "login form has a CSRF token"
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token[1]})
