"""purge_expired: personal fields erased past retention, aggregates kept; tested by moving the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.models import (
    Checkin,
    CheckinStatus,
    ConversationState,
    InboundMessage,
    Resident,
    ResidentStatus,
    WeChatIdentity,
)
from bot.runtime import Runtime
from bot.services import retention
from tests.factories import make_identity, make_inbound, make_resident


def closed_resident(db: Session, closed_on: date, **kw: object) -> Resident:
    resident = make_resident(
        db,
        status=ResidentStatus.CLOSED,
        closed_on=closed_on,
        closed_reason="观察期满",
        household_address="兰西县兰西镇幸福路1号",
        **kw,
    )
    db.add(
        Checkin(
            resident_id=resident.id,
            station_id=resident.station_id,
            day=closed_on,
            status=CheckinStatus.ANSWERED,
        )
    )
    return resident


def test_purge_erases_people_whose_monitoring_ended_long_ago(db: Session, rt: Runtime) -> None:
    today = datetime(2020, 9, 1, 12, tzinfo=UTC)
    old = closed_resident(db, date(2020, 2, 20), phone="13900001111")
    recent = closed_resident(db, date(2020, 8, 20))
    away = make_resident(db)
    identity = make_identity(db, old)
    make_inbound(db, identity, "我在哈尔滨，身体很好")
    db.add(
        ConversationState(
            identity_id=identity.id, flow="daily_checkin", version=1, node="health", data={}, expires_at=today
        )
    )
    db.flush()
    result = retention.purge_expired(db, rt.settings, today)  # retention_days defaults to 180
    assert result.residents == 1
    db.flush()
    db.expire_all()
    purged = db.get(Resident, old.id)
    assert purged is not None and purged.purged_at is not None and purged.name == retention.PURGED_NAME
    assert purged.id_number is None and purged.phone is None and purged.household_address == ""
    raw = db.execute(
        text("SELECT id_number, phone, id_number_hash FROM residents WHERE id = :i"), {"i": old.id}
    ).one()
    assert raw == (None, None, None)
    assert db.scalar(select(WeChatIdentity.resident_id).where(WeChatIdentity.id == identity.id)) is None
    assert db.scalar(select(InboundMessage.content)) == ""
    assert db.scalar(select(func.count(ConversationState.id))) == 0
    # the aggregates stay: the check-in still counts for its day and station
    assert db.scalar(select(func.count(Checkin.id)).where(Checkin.resident_id == old.id)) == 1
    assert db.get(Resident, recent.id).purged_at is None  # type: ignore[union-attr]
    assert db.get(Resident, away.id).purged_at is None  # type: ignore[union-attr]
    # idempotent: a second run finds nothing more
    assert retention.purge_expired(db, rt.settings, today).residents == 0
    # the clock moves on: the recent one's time comes
    later = today + timedelta(days=200)
    assert retention.purge_expired(db, rt.settings, later).residents == 1


def test_purge_job_is_declared_and_runs(rt: Runtime) -> None:
    from bot.jobs import job, run_job

    assert job("purge_expired").daily_at is not None
    assert run_job(rt, "purge_expired") == {"residents": 0, "tips": 0, "form_hits": 0}
