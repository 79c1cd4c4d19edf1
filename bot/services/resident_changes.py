"""Changing a resident's record from the panel: edits and transfers, each with a stated reason.

Both are audited with the old and new values; identifiers appear there masked, and free
text has any ID or phone number in it masked too, so the audit log never holds one in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import privacy
from bot.importing.errors import FieldError
from bot.importing.validators import normalize_id_number, normalize_name, normalize_phone, normalize_text
from bot.models import Checkin, Jurisdiction, JurisdictionKind, Lead, LeadStatus, Resident, ResidentStatus
from bot.services import audit
from bot.services.audit import Actor
from bot.services.redaction import mask_identifiers
from bot.services.scope import Scope

MIN_REASON_LENGTH = 4
Value = str | date | None


class ResidentChangeError(Exception):
    """A refused edit or transfer; the message is shown to staff and names no identifier."""


@dataclass(frozen=True)
class Field:
    title: str
    kind: str  # name | phone | id_number | text | date | status
    max_length: int = 255


EDITABLE: dict[str, Field] = {
    "name": Field("姓名", "name"),
    "phone": Field("手机号", "phone"),
    "id_number": Field("身份证号", "id_number"),
    "household_address": Field("户籍地址", "text", 255),
    "current_city": Field("现居城市", "text", 64),
    "current_address": Field("现居住地", "text", 255),
    "away_since": Field("外出时间", "date"),
    "away_reason": Field("外出原因", "text", 255),
    "expected_return": Field("预计返回时间", "date"),
    "status": Field("人员状态", "status"),
    "returned_on": Field("返乡日期", "date"),
    "monitoring_end": Field("观察期止", "date"),
    "note": Field("备注", "text", 2000),
}
_HASHED = {"phone": "phone", "id_number": "id"}  # field -> blind index kind
_MASKS: dict[str, Callable[[str], str]] = {"phone": privacy.mask_phone, "id_number": privacy.mask_id_number}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str  # masked for identifiers
    new: str


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON_LENGTH:
        raise ResidentChangeError(f"请填写修改理由（至少 {MIN_REASON_LENGTH} 个字）。")
    return mask_identifiers(reason[:500])


def _normalised(field: Field, value: Value, today: date) -> Value:
    if field.kind == "date":
        if value is not None and not isinstance(value, date):
            raise ValueError(field.kind)
        return value
    if not isinstance(value, str):
        raise ValueError(field.kind)
    if field.kind == "text":
        return normalize_text(value, max_length=field.max_length)
    if field.kind == "name":
        return normalize_name(value)
    if field.kind == "status":
        return ResidentStatus(value)
    if not value.strip():
        return None  # an identifier may be removed, never made up
    if field.kind == "phone":
        return normalize_phone(value)
    return normalize_id_number(value, today=today)


def _shown(name: str, value: Value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    mask = _MASKS.get(name)
    return mask(text) if mask else mask_identifiers(text)


def _check_dates(resident: Resident) -> None:
    if resident.away_since and resident.expected_return and resident.expected_return < resident.away_since:
        raise ResidentChangeError("预计返回时间不能早于外出时间。")
    if resident.returned_on and resident.monitoring_end and resident.monitoring_end < resident.returned_on:
        raise ResidentChangeError("观察期止不能早于返乡日期。")
    if resident.status == ResidentStatus.MONITORING and resident.returned_on is None:
        raise ResidentChangeError("返乡观察中的人员须填写返乡日期。")


def _set_identifier(db: Session, resident: Resident, name: str, value: Value) -> None:
    digest = privacy.vault().blind_index(str(value), kind=_HASHED[name]) if value else None
    if name == "id_number" and digest is not None:
        other = db.scalar(
            select(Resident.id).where(Resident.id_number_hash == digest, Resident.id != resident.id)
        )
        if other is not None:
            raise ResidentChangeError("该身份证号已登记在另一人员名下。")
    setattr(resident, f"{name}_hash", digest)


def edit(
    db: Session, actor: Actor, resident: Resident, values: Mapping[str, Value], reason: str, *, today: date
) -> list[FieldChange]:
    """Apply the changed fields among ``values`` (unknown names are refused) and audit them."""
    reason = _reason(reason)
    changes = []
    for name, raw in values.items():
        field = EDITABLE.get(name)
        if field is None:
            raise ResidentChangeError(f"不能修改的字段：{name}")
        try:
            value = _normalised(field, raw, today)
        except (FieldError, ValueError) as exc:
            message = exc.message_zh if isinstance(exc, FieldError) else "取值无效"
            raise ResidentChangeError(f"{field.title}：{message}") from None
        old = getattr(resident, name)
        if (old or None) == (value or None):
            continue
        if name in _HASHED:
            _set_identifier(db, resident, name, value)
        setattr(
            resident, name, value if value is not None or field.kind in ("date", "phone", "id_number") else ""
        )
        changes.append(FieldChange(name, _shown(name, old), _shown(name, value)))
    if not changes:
        raise ResidentChangeError("没有修改任何内容。")
    _check_dates(resident)
    audit.record(
        db,
        actor,
        "resident.edit",
        record_type="resident",
        record_id=resident.id,
        changes={c.field: [c.old, c.new] for c in changes},
        reason=reason,
    )
    return changes


def transfer(
    db: Session, actor: Actor, scope: Scope, resident: Resident, station_id: int, reason: str, *, today: date
) -> Jurisdiction:
    """Move the resident to another station (and its township). Returns the new station.

    Today's and later check-ins and the resident's open leads move too, so the new station
    sees today's work; past check-ins stay where they were counted.
    """
    reason = _reason(reason)
    station = db.get(Jurisdiction, station_id)
    if station is None or station.kind != JurisdictionKind.STATION or not scope.allows_station(station.id):
        raise ResidentChangeError("请选择您辖区内的派出所。")
    if station.id == resident.station_id:
        raise ResidentChangeError("该人员已属于这个派出所。")
    old = resident.station
    resident.station_id = station.id
    resident.township_id = station.parent_id or resident.township_id
    db.execute(
        update(Checkin)
        .where(Checkin.resident_id == resident.id, Checkin.day >= today)
        .values(station_id=station.id)
    )
    db.execute(
        update(Lead)
        .where(Lead.resident_id == resident.id, Lead.status != LeadStatus.DONE)
        .values(station_id=station.id)
    )
    db.flush()
    db.refresh(resident)
    audit.record(
        db,
        actor,
        "resident.transfer",
        record_type="resident",
        record_id=resident.id,
        changes={"station": [old.name, station.name]},
        reason=reason,
    )
    return station
