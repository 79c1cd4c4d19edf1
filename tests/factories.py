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


# --- daily figures (reports helper) ---------------------------------------------------------------


def make_checkin(db: Session, resident: Resident, day: date, **kw: Any) -> Any:
    """A check-in of ``resident`` for ``day`` (status, health, abnormal... as keywords)."""
    from bot.models import Checkin

    checkin = Checkin(resident_id=resident.id, station_id=resident.station_id, day=day, **kw)
    db.add(checkin)
    db.flush()
    return checkin


def make_visit(db: Session, resident: Resident, day: date, **kw: Any) -> Any:
    from bot.models import ContactMethod, Visit, VisitOutcome

    kw.setdefault("method", ContactMethod.PHONE)
    kw.setdefault("outcome", VisitOutcome.REACHED)
    visit = Visit(resident_id=resident.id, station_id=resident.station_id, day=day, **kw)
    db.add(visit)
    db.flush()
    return visit


def make_lead(db: Session, station: Jurisdiction, **kw: Any) -> Any:
    from bot.models import Lead, LeadSource

    n = next(_seq)
    lead = Lead(
        source=kw.pop("source", LeadSource.CHECKIN),
        cause_key=kw.pop("cause_key", f"test:{n}"),
        station_id=station.id,
        title=kw.pop("title", f"测试线索{n}"),
        **kw,
    )
    db.add(lead)
    db.flush()
    return lead


# --- advisories (advisories helper) ---------------------------------------------------------------


def make_group(db: Session, kind: str = "wecom_robot", **kw: Any) -> Any:
    """A registered WeChat group of ``kind`` with the address that kind needs (override by keyword)."""
    from bot.models import GroupKind, WeChatGroup

    n = next(_seq)
    defaults: dict[str, Any] = {
        "wecom_robot": {"webhook_key": f"robot-key-{n:04d}-lanxi"},
        "wecom_appchat": {"chat_id": f"chat{n:04d}"},
        "wecom_customer_group": {"owner_userid": f"owner{n}"},
        "oa_tag": {"tag_id": 0},
        "manual": {},
    }[kind]
    group = WeChatGroup(
        name=kw.pop("name", f"测试群{n}"),
        kind=GroupKind(kind),
        member_count=kw.pop("member_count", 100),
        **{**defaults, **kw},
    )
    db.add(group)
    db.flush()
    return group


def make_advisory(db: Session, author: StaffUser, groups: Any = (), **kw: Any) -> Any:
    """A draft advisory by ``author`` targeting ``groups`` (fields by keyword)."""
    from bot.services import advisories
    from bot.services.advisory_targets import Targeting
    from bot.services.audit import Actor

    n = next(_seq)
    draft = advisories.Draft(
        title=kw.pop("title", f"致全县外出人员的倡议书{n}"),
        body=kw.pop("body", "请大家少出门、勤洗手、戴口罩。\n\n不信谣、不传谣，发热请及时报告。"),
        targets=kw.pop("targets", Targeting(group_ids=frozenset(g.id for g in groups))),
        **kw,
    )
    return advisories.create(db, Actor.staff(author), draft)


def make_tip(db: Session, settings: Any, text: str = "", *, reporter: str | None = None, **kw: Any) -> Any:
    """A tip filed as the public form would (``reporter``: the client address); it is clustered at once."""
    from bot.models import TipChannel, utcnow
    from bot.services import tips

    now = kw.pop("now", None) or utcnow()
    address = reporter or f"10.0.0.{next(_seq)}"
    new = tips.NewTip(
        channel=kw.pop("channel", TipChannel.FORM),
        reporter_hash=kw.pop("reporter_hash", None) or tips.reporter_hash_of_client(address),
        text=text or f"听说第{next(_seq)}号楼有人确诊了，大家不要出门",
        seen_where=kw.pop("seen_where", "小区业主群"),
        **kw,
    )
    return tips.submit(db, settings, new, now=now)


# --- check-ins and binding (check-ins helper) ------------------------------------------------------


def make_identity(db: Session, resident: Resident | None = None, **kw: Any) -> Any:
    """A followed WeChat identity of the Official Account, bound to ``resident`` when given.

    ``window_open=False`` leaves the customer-service window closed (no message from the user yet)."""
    from datetime import UTC, datetime

    from bot.config import WeChatSettings
    from bot.models import WeChatIdentity

    n = next(_seq)
    window_open = kw.pop("window_open", True)
    now = datetime.now(UTC)
    identity = WeChatIdentity(
        account=kw.pop("account", WeChatSettings.app_id),
        openid=kw.pop("openid", f"oLanxiTest{n:012d}"),
        resident_id=resident.id if resident else None,
        bound_at=now if resident else None,
        subscribed=kw.pop("subscribed", True),
        last_user_message_at=now if window_open else None,
        **kw,
    )
    db.add(identity)
    db.flush()
    return identity


def make_inbound(db: Session, identity: Any, content: str) -> Any:
    """A text message received from ``identity``, as the gateway stores it."""
    from bot.models import InboundMessage

    message = InboundMessage(
        account=identity.account,
        dedupe_key=f"msg:{next(_seq)}",
        sender=identity.openid,
        msg_type="text",
        content=content,
    )
    db.add(message)
    db.flush()
    return message
