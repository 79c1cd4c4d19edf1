"""Helpers for advisory tests: people in the approval chain, an approved advisory, delivery."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.base import Channel
from bot.clock import now_utc
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.models import Advisory, OutboxMessage, Role, StaffUser
from bot.models.enums import Decision
from bot.runtime import Runtime
from bot.services import advisories
from bot.services.audit import Actor
from tests.factories import make_advisory, make_user


@dataclass(frozen=True)
class Team:
    """The default chain is propaganda → leader: a composer, the propaganda head, a bureau leader."""

    composer: StaffUser
    head: StaffUser
    leader: StaffUser


def make_team(db: Session) -> Team:
    return Team(
        composer=make_user(db, Role.PROPAGANDA, display_name="宣传干事"),
        head=make_user(db, Role.PROPAGANDA, display_name="宣传科长"),
        leader=make_user(db, Role.LEADER, display_name="分管局长"),
    )


def approve_fully(
    db: Session, rt: Runtime, team: Team, advisory: Advisory, now: datetime | None = None
) -> None:
    now = now or now_utc()
    advisories.submit(db, rt.settings, Actor.staff(team.composer), advisory, now)
    for person in (team.head, team.leader):
        advisories.decide(db, rt.settings, person, Actor.staff(person), advisory, Decision.APPROVE, "", now)


def approved_advisory(db: Session, rt: Runtime, team: Team, groups: Iterable[Any], **kw: Any) -> Advisory:
    advisory: Advisory = make_advisory(db, team.composer, list(groups), **kw)
    approve_fully(db, rt, team, advisory)
    return advisory


def deliver_all(rt: Runtime, channels: Mapping[str, Channel], gate: RateGate | None = None) -> int:
    return drain(rt, channels, gate or RateGate())


def outbox_rows(db: Session, prefix: str = "advisory:") -> list[OutboxMessage]:
    db.flush()
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith(prefix))))


def csrf(client: FlaskClient, path: str) -> str:
    """A CSRF token from a page the client may see."""
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match[1]
