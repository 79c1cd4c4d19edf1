"""Realistic synthetic data for `lanxi demo`: 兰西县, ~13,000 residents away, 14 days of history.

Idempotent: a second run finds the data and only resets the demo passwords it prints.
Rows are written with Core executemany in chunks, which keeps 13,000 residents and
their ~180,000 check-ins well under a minute on SQLite.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.clock import local_today
from bot.config import Settings
from bot.models import (
    Checkin,
    CheckinStatus,
    ContactMethod,
    GroupKind,
    Health,
    Jurisdiction,
    JurisdictionKind,
    Resident,
    ResidentStatus,
    Role,
    StaffUser,
    Visit,
    VisitOutcome,
    WeChatGroup,
    WeChatIdentity,
)
from bot.services import jurisdictions, staff
from bot.services.audit import CLI

# Townships and streets of 兰西县 and the police stations that serve them.
TOWNSHIPS: dict[str, list[str]] = {
    "兰西镇": ["城关派出所", "城东派出所", "城西派出所"],
    "榆林镇": ["榆林派出所"],
    "临江镇": ["临江派出所"],
    "平山镇": ["平山派出所"],
    "红光镇": ["红光派出所"],
    "远大镇": ["远大派出所"],
    "康荣镇": ["康荣派出所"],
    "燎原镇": ["燎原派出所"],
    "北安乡": ["北安派出所"],
    "长江乡": ["长江派出所"],
    "红星乡": ["红星派出所"],
    "奋斗乡": ["奋斗派出所"],
    "长岗乡": ["长岗派出所"],
    "星火乡": ["星火派出所"],
}
# Where people from the county went, weighted roughly like the bureau's own figures.
CITIES: list[tuple[str, int]] = [
    ("哈尔滨", 30),
    ("绥化", 12),
    ("大庆", 8),
    ("北京", 7),
    ("大连", 5),
    ("沈阳", 4),
    ("天津", 4),
    ("长春", 3),
    ("齐齐哈尔", 3),
    ("上海", 3),
    ("青岛", 2),
    ("深圳", 2),
    ("广州", 2),
    ("杭州", 2),
    ("武汉", 1),
    ("苏州", 1),
    ("南京", 1),
    ("石家庄", 1),
    ("牡丹江", 1),
    ("佳木斯", 1),
    ("三亚", 1),
    ("海口", 1),
    ("成都", 1),
    ("西安", 1),
    ("郑州", 1),
    ("济南", 1),
    ("厦门", 1),
    ("昆明", 1),
]
REASONS = ["务工", "探亲", "旅游", "就学", "经商", "就医", "春节走亲访友"]
DEMO_RESIDENTS = 13_000
HISTORY_DAYS = 14
BIND_RATE = 0.82
CHUNK = 2_000
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, None),
    ("leader", Role.LEADER, None),
    ("clerk", Role.DATA_CLERK, None),
    ("xuanchuan", Role.PROPAGANDA, None),
    ("wangjing", Role.CYBER_POLICE, None),
    ("chengguan", Role.STATION_OFFICER, "城关派出所"),
]

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    password: str


def id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def make_id_number(rng: random.Random, born: date, male: bool) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{jurisdictions.COUNTY_CODE}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def make_phone(rng: random.Random) -> str:
    return (
        rng.choice(["13", "15", "17", "18", "19"])
        + rng.choice("0356789")
        + "".join(rng.choices(string.digits, k=8))
    )


def seed(
    db: Session,
    settings: Settings,
    *,
    residents: int = DEMO_RESIDENTS,
    progress: Progress | None = None,
    rng_seed: int = 2020,
    history_days: int = HISTORY_DAYS,
) -> bool:
    """Load the demo data unless it is already there. Returns True when it loaded.

    ``history_days`` of check-ins before today (bench/panel_scale.py loads 90)."""
    if db.scalar(select(func.count(Resident.id))):
        return False
    rng = random.Random(rng_seed)
    stations = _jurisdictions(db)
    _groups(db, stations)
    today = local_today(settings.tz)
    resident_ids = _residents(db, rng, stations, residents, progress)
    _identities(db, rng, settings, resident_ids)
    _history(db, rng, settings, today, resident_ids, progress, history_days)
    from bot.demo_activity import add_activity  # services: imported late, only the demo needs them

    add_activity(db, settings, rng)
    return True


def demo_logins(db: Session) -> list[DemoLogin]:
    """Create the demo accounts, or give them new passwords: each run prints fresh ones, once."""
    logins = []
    for username, role, station_name in DEMO_ACCOUNTS:
        where = jurisdictions.find(db, station_name) if station_name else jurisdictions.county(db)
        password = secrets.token_urlsafe(9)
        user = db.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            staff.create_user(db, CLI, username=username, role=role, jurisdiction=where, password=password)
        else:
            staff.set_password(db, CLI, user, password)
        logins.append(DemoLogin(username, role, password))
    return logins


def _jurisdictions(db: Session) -> list[tuple[Jurisdiction, Jurisdiction]]:
    county = jurisdictions.county(db)
    pairs = []
    for township_name, station_names in TOWNSHIPS.items():
        township, _ = jurisdictions.upsert_child(db, county, JurisdictionKind.TOWNSHIP, township_name)
        for station_name in station_names:
            station, _ = jurisdictions.upsert_child(db, township, JurisdictionKind.STATION, station_name)
            pairs.append((township, station))
    return pairs


def _groups(db: Session, stations: Sequence[tuple[Jurisdiction, Jurisdiction]]) -> None:
    townships = {t.id: t for t, _ in stations}
    for township in townships.values():
        short = township.name[:-1]
        db.add_all(
            [
                WeChatGroup(
                    name=f"{short}防疫工作群",
                    kind=GroupKind.WECOM_ROBOT,
                    township_id=township.id,
                    webhook_key=secrets.token_hex(16),
                    member_count=180,
                ),
                WeChatGroup(
                    name=f"{short}在外人员联络群",
                    kind=GroupKind.MANUAL,
                    township_id=township.id,
                    member_count=420,
                ),
            ]
        )
    db.add(WeChatGroup(name="兰西公安公众号全体关注者", kind=GroupKind.OA_TAG, tag_id=0, member_count=9000))
    db.flush()


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _residents(
    db: Session,
    rng: random.Random,
    stations: Sequence[tuple[Jurisdiction, Jurisdiction]],
    count: int,
    progress: Progress | None,
) -> list[tuple[int, int]]:
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(1 << 30))
    vault = privacy.vault()
    cities, weights = zip(*CITIES, strict=True)
    now = datetime.now(UTC)

    def rows() -> Iterator[dict[str, Any]]:
        seen_ids: set[str] = set()
        for _ in range(count):
            township, station = rng.choice(stations)
            male = rng.random() < 0.52
            born = date(1945, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
            id_number = make_id_number(rng, born, male)
            while id_number in seen_ids:
                id_number = make_id_number(rng, born, male)
            seen_ids.add(id_number)
            phone = make_phone(rng)
            city = rng.choices(cities, weights)[0]
            away = date(2020, 1, 5) + timedelta(days=rng.randrange(0, 50))
            yield {
                "name": fake.name_male() if male else fake.name_female(),
                "id_number": id_number,
                "id_number_hash": vault.blind_index(id_number, kind="id"),
                "phone": phone,
                "phone_hash": vault.blind_index(phone, kind="phone"),
                "gender": "男" if male else "女",
                "birth_year": born.year,
                "household_address": _address(township.name, fake.street_name(), rng.randrange(1, 200)),
                "current_city": city,
                "current_address": f"{city}市{fake.street_address()}",
                "away_since": away,
                "away_reason": rng.choice(REASONS),
                "expected_return": away + timedelta(days=rng.randrange(20, 90))
                if rng.random() < 0.7
                else None,
                "station_id": station.id,
                "township_id": township.id,
                "status": ResidentStatus.AWAY,
                "note": "",
                "created_at": now,
                "updated_at": now,
            }

    for batch in _chunks(rows()):
        db.execute(insert(Resident), batch)
        if progress:
            progress(len(batch))
    return [
        (rid, sid) for rid, sid in db.execute(select(Resident.id, Resident.station_id).order_by(Resident.id))
    ]


def _address(township: str, street: str, number: int) -> str:
    return f"黑龙江省绥化市兰西县{township}{street}{number}号"


def _identities(
    db: Session, rng: random.Random, settings: Settings, residents: list[tuple[int, int]]
) -> None:
    now = datetime.now(UTC)
    alphabet = string.ascii_letters + string.digits + "-_"
    rows = (
        {
            "account": settings.wechat.app_id,
            "openid": "o" + "".join(rng.choices(alphabet, k=27)),
            "resident_id": rid,
            "bound_at": now,
            "subscribed": True,
            "subscribed_at": now,
            "window_sends": 0,
            "bind_failures": 0,
            "tips_blocked": False,
            "nickname": "",
            "created_at": now,
            "updated_at": now,
        }
        for rid, _ in residents
        if rng.random() < BIND_RATE
    )
    for batch in _chunks(rows):
        db.execute(insert(WeChatIdentity), batch)


def _history(
    db: Session,
    rng: random.Random,
    settings: Settings,
    today: date,
    residents: list[tuple[int, int]],
    progress: Progress | None,
    days: int = HISTORY_DAYS,
) -> None:
    """Check-ins and visits for the last ``days`` days, today half done."""
    tz = settings.tz
    prompt_at = time.fromisoformat(settings.checkin.time)
    for offset in range(days, -1, -1):
        day = today - timedelta(days=offset)
        checkins, visits = [], []
        for rid, sid in residents:
            row, visit = _day_of(rng, rid, sid, day, offset == 0, datetime.combine(day, prompt_at, tz))
            checkins.append(row)
            if visit:
                visits.append(visit)
        for batch in _chunks(iter(checkins)):
            db.execute(insert(Checkin), batch)
        for batch in _chunks(iter(visits)):
            db.execute(insert(Visit), batch)
        if progress:
            progress(len(residents))


def _day_of(
    rng: random.Random, rid: int, sid: int, day: date, is_today: bool, prompted: datetime
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    prompted_utc = prompted.astimezone(UTC)
    answered_at = prompted_utc + timedelta(minutes=rng.randrange(2, 600))
    roll = rng.random()
    base = {
        "resident_id": rid,
        "station_id": sid,
        "day": day,
        "prompted_at": prompted_utc,
        "created_at": prompted_utc,
        "updated_at": prompted_utc,
        "whereabouts_city": "",
        "return_plan": "",
        "unclear_replies": 0,
        "phone_list_reason": "",
        "abnormal": False,
    }
    answered_share = 0.55 if is_today else 0.86
    if roll < answered_share:
        health = rng.choices(list(Health), weights=[985, 6, 7, 2])[0]
        row = base | {
            "status": CheckinStatus.ANSWERED,
            "channel": ContactMethod.WECHAT,
            "health": health,
            "whereabouts_unchanged": True,
            "answered_at": answered_at,
            "abnormal": health != Health.NORMAL,
        }
        visit = {
            "resident_id": rid,
            "station_id": sid,
            "day": day,
            "at": answered_at,
            "method": ContactMethod.WECHAT,
            "outcome": VisitOutcome.REACHED,
            "health": health,
            "whereabouts": "",
            "note": "",
        }
        return row, visit
    if is_today:
        return base | {"status": CheckinStatus.PROMPTED}, None
    if roll < 0.95:
        called = prompted_utc + timedelta(hours=12)
        row = base | {
            "status": CheckinStatus.REACHED_BY_PHONE,
            "channel": ContactMethod.PHONE,
            "health": Health.NORMAL,
            "answered_at": called,
            "phone_list_reason": "silent",
        }
        visit = {
            "resident_id": rid,
            "station_id": sid,
            "day": day,
            "at": called,
            "method": ContactMethod.PHONE,
            "outcome": VisitOutcome.REACHED,
            "health": Health.NORMAL,
            "whereabouts": "",
            "note": "电话回访",
        }
        return row, visit
    return base | {"status": CheckinStatus.NOT_REACHED, "phone_list_reason": "silent"}, None
