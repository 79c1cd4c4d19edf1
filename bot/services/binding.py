"""Binding a WeChat identity to a resident: by a per-resident QR code, or by name plus the last six
characters of the ID number (or the phone number) in the chat.

One identity per resident and one resident per identity. Failed attempts are counted on the
identity across conversations (cancelling and starting again does not reset them): after
``MAX_FAILURES`` binding is locked for ``COOLDOWN``, and while locked nothing is compared.
Candidates are found by name (stored in clear) and only those few are decrypted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy
from bot.models import QrScene, Resident, WeChatIdentity
from bot.services import audit
from bot.services.audit import SYSTEM, Actor

MAX_FAILURES = 5
COOLDOWN = timedelta(minutes=30)
RESIDENT_SCENE_PREFIX = "r"
STATION_SCENE_PREFIX = "s"

Outcome = Literal["ok", "failed", "locked", "taken", "already_bound"]


@dataclass(frozen=True)
class BindResult:
    outcome: Outcome
    resident: Resident | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def locked(identity: WeChatIdentity, now: datetime) -> bool:
    return identity.bind_locked_until is not None and identity.bind_locked_until > now


def retry_after_minutes(identity: WeChatIdentity, now: datetime) -> int:
    if identity.bind_locked_until is None or identity.bind_locked_until <= now:
        return 0
    return max(1, -(-int((identity.bind_locked_until - now).total_seconds()) // 60))


def lock(identity: WeChatIdentity, now: datetime) -> int:
    """Lock binding for the cool-down (the flow's own limit was reached); minutes to wait."""
    identity.bind_locked_until = now + COOLDOWN
    identity.bind_failures = 0
    return retry_after_minutes(identity, now)


def _bind(db: Session, identity: WeChatIdentity, resident: Resident, now: datetime, how: str) -> BindResult:
    if identity.resident_id == resident.id:
        return BindResult("ok", resident)
    if identity.resident_id is not None:
        return BindResult("already_bound", identity.resident)
    holder = db.scalar(select(WeChatIdentity).where(WeChatIdentity.resident_id == resident.id))
    if holder is not None:
        return BindResult("taken", resident)
    identity.resident_id = resident.id
    identity.resident = resident
    identity.bound_at = now
    identity.bind_failures = 0
    identity.bind_locked_until = None
    identity.bind_station_id = None
    audit.record(
        db,
        SYSTEM,
        "wechat.bind",
        record_type="resident",
        record_id=resident.id,
        identity=identity.id,
        how=how,
    )
    return BindResult("ok", resident)


def _matches(resident: Resident, id_suffix: str | None, phone_hash: str | None) -> bool:
    if id_suffix:
        return (resident.id_number or "")[-6:].upper() == id_suffix.upper()
    return phone_hash is not None and resident.phone_hash == phone_hash


def _fail(identity: WeChatIdentity, now: datetime) -> BindResult:
    identity.bind_failures += 1
    if identity.bind_failures >= MAX_FAILURES:
        lock(identity, now)
        return BindResult("locked")
    return BindResult("failed")


def attempt(
    db: Session,
    identity: WeChatIdentity,
    *,
    name: str,
    id_suffix: str | None,
    phone: str | None,
    now: datetime,
) -> BindResult:
    """Bind when exactly one resident (of the scanned station, if any) matches the details."""
    if locked(identity, now):
        return BindResult("locked")
    if not name or not (id_suffix or phone):
        return _fail(identity, now)
    query = select(Resident).where(Resident.name == name.strip(), Resident.purged_at.is_(None))
    if identity.bind_station_id is not None:
        query = query.where(Resident.station_id == identity.bind_station_id)
    phone_hash = privacy.vault().blind_index(phone, kind="phone") if phone else None
    matches = [r for r in db.scalars(query.limit(50)) if _matches(r, id_suffix, phone_hash)]
    if len(matches) != 1:
        return _fail(identity, now)
    result = _bind(db, identity, matches[0], now, "phone" if phone else "id_suffix")
    # Details that match someone already bound elsewhere count as a failure: no hint given.
    return result if result.ok else _fail(identity, now)


def resident_of(db: Session, account: str, openid: str) -> Resident | None:
    """The resident bound to this WeChat user (the mobile page's web authorization gives the openid)."""
    identity = db.scalar(
        select(WeChatIdentity).where(WeChatIdentity.account == account, WeChatIdentity.openid == openid)
    )
    return identity.resident if identity is not None else None


def unbind(db: Session, identity: WeChatIdentity, *, actor: Actor = SYSTEM) -> Resident | None:
    """Unbind (audited); the resident it was bound to, or None when it was not bound."""
    resident = identity.resident
    if resident is None:
        return None
    identity.resident_id = None
    identity.resident = None
    identity.bound_at = None
    audit.record(
        db, actor, "wechat.unbind", record_type="resident", record_id=resident.id, identity=identity.id
    )
    return resident


# --- QR scenes -----------------------------------------------------------------------------------


def scene_for_resident(db: Session, resident: Resident) -> QrScene:
    """The resident's own scene: unguessable, since scanning it binds without further questions."""
    found = db.scalar(select(QrScene).where(QrScene.resident_id == resident.id))
    if found is None:
        found = QrScene(scene=RESIDENT_SCENE_PREFIX + secrets.token_urlsafe(24), resident_id=resident.id)
        db.add(found)
        db.flush()
    return found


def scene_for_station(db: Session, station_id: int) -> QrScene:
    """A station's scene: it only narrows the binding conversation to that station's residents."""
    found = db.scalar(select(QrScene).where(QrScene.station_id == station_id, QrScene.resident_id.is_(None)))
    if found is None:
        found = QrScene(
            scene=f"{STATION_SCENE_PREFIX}{station_id}-{secrets.token_hex(4)}", station_id=station_id
        )
        db.add(found)
        db.flush()
    return found


def find_scene(db: Session, scene: str | None) -> QrScene | None:
    if not scene:
        return None
    return db.scalar(select(QrScene).where(QrScene.scene == scene[:64]))


def bind_by_scene(db: Session, identity: WeChatIdentity, scene: QrScene, now: datetime) -> BindResult:
    """Scanning a resident's own QR code binds at once (no questions: the code is the credential)."""
    resident = db.get(Resident, scene.resident_id) if scene.resident_id is not None else None
    if resident is None or resident.purged_at is not None:
        return BindResult("failed")
    return _bind(db, identity, resident, now, "qr")


def narrow_to_station(identity: WeChatIdentity, scene: QrScene) -> None:
    """After a station's QR code, the binding conversation only matches that station's residents."""
    if scene.station_id is not None and identity.resident_id is None:
        identity.bind_station_id = scene.station_id
