"""The audit log: who did what to which record, appended, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.models import AuditEvent, StaffUser


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (with their request's address) or the system itself."""

    user_id: int | None
    label: str
    ip: str = ""

    @classmethod
    def staff(cls, user: StaffUser, ip: str = "") -> Actor:
        return cls(user.id, user.username, ip)


SYSTEM = Actor(None, "system")
CLI = Actor(None, "cli")


def record(
    db: Session,
    actor: Actor,
    action: str,
    *,
    record_type: str = "",
    record_id: object = "",
    **detail: Any,
) -> AuditEvent:
    """Append one audit event. ``detail`` must never carry an unmasked identifier."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        record_type=record_type,
        record_id=str(record_id),
        ip=actor.ip,
        detail=detail,
    )
    db.add(event)
    return event
