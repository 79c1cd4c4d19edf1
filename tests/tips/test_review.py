"""The review workflow as services: holding, deciding, reopening, merging, splitting, leads, debunks."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import begin_immediate, make_sessionmaker
from bot.models import (
    Advisory,
    AdvisoryStatus,
    AuditEvent,
    ClusterStatus,
    Lead,
    LeadSource,
    Role,
    TipCluster,
    TipReview,
    utcnow,
)
from bot.runtime import Runtime
from bot.services import leads, tip_review
from bot.services.audit import Actor
from bot.services.tip_review import ReviewError
from tests.factories import make_station, make_tip
from tests.tips.support import cluster_of, reviewer, tips_of

RUMOR = "听说兰西明天开始封城，超市全部关门，赶紧去囤货"


@pytest.fixture
def first(db: Session) -> Actor:
    return reviewer(db, "网警甲")


@pytest.fixture
def second(db: Session) -> Actor:
    return reviewer(db, "网警乙")


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def cluster(rt: Runtime, db: Session) -> TipCluster:
    make_tip(db, rt.settings, RUMOR, reporter="1.1.1.1")
    return cluster_of(db, make_tip(db, rt.settings, RUMOR + "！！", reporter="2.2.2.2"))


@pytest.fixture
def held(rt: Runtime, db: Session, cluster: TipCluster, first: Actor, now: datetime) -> TipCluster:
    """The cluster, claimed by the first reviewer ``now``."""
    tip_review.claim(db, rt.settings, first, cluster, now=now)
    return cluster


@pytest.fixture
def tip_lead(rt: Runtime, db: Session, cluster: TipCluster, first: Actor) -> Lead:
    """A lead of the cluster at a station, due today."""
    lead, _ = tip_review.create_lead(
        db,
        rt.settings,
        first,
        cluster,
        station=make_station(db),
        due_date=date.today(),
        task="",
        now=utcnow(),
    )
    return lead


def history(db: Session, cluster: TipCluster) -> list[tuple[str, str, str]]:
    reviews = db.scalars(select(TipReview).where(TipReview.cluster_id == cluster.id).order_by(TipReview.id))
    return [(r.action, r.from_status, r.to_status) for r in reviews]


def test_claiming_shows_the_holder_and_starts_the_review(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor, now: datetime
) -> None:
    tip_review.claim(db, rt.settings, first, cluster, now=now)
    assert cluster.status == ClusterStatus.INVESTIGATING
    assert tip_review.holder_id(cluster, now, tip_review.Policy.of(rt.settings)) == first.user_id
    assert history(db, cluster) == [("claim", "pending", "pending"), ("status", "pending", "investigating")]
    actions = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.record_type == "tip_cluster", AuditEvent.record_id == str(cluster.id)
        )
    ).all()
    assert actions == ["tips.claim", "tips.status"]


def test_a_second_reviewer_cannot_take_a_held_cluster(
    rt: Runtime, db: Session, held: TipCluster, first: Actor, second: Actor, now: datetime
) -> None:
    cluster = held
    for attempt in (
        lambda: tip_review.claim(db, rt.settings, second, cluster, now=now),
        lambda: tip_review.release(db, rt.settings, second, cluster, now=now),
        lambda: tip_review.decide(
            db, rt.settings, second, cluster, verdict=ClusterStatus.TRUE, reason="核实", now=now
        ),
    ):
        with pytest.raises(ReviewError, match="网警甲"):
            attempt()
    assert cluster.assignee_id == first.user_id and cluster.status == ClusterStatus.INVESTIGATING


def test_a_released_or_stale_hold_can_be_taken(
    rt: Runtime, db: Session, held: TipCluster, first: Actor, second: Actor, now: datetime
) -> None:
    cluster = held
    tip_review.release(db, rt.settings, first, cluster, now=now)
    tip_review.claim(db, rt.settings, second, cluster, now=now)
    assert cluster.assignee_id == second.user_id
    later = now + timedelta(minutes=rt.settings.tips.claim_stale_minutes)
    tip_review.claim(db, rt.settings, first, cluster, now=later)  # the second went quiet
    assert cluster.assignee_id == first.user_id


def test_deciding_needs_a_reason_and_for_a_rumor_the_debunk(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor, now: datetime
) -> None:
    with pytest.raises(ReviewError, match="理由"):
        tip_review.decide(db, rt.settings, first, cluster, verdict=ClusterStatus.RUMOR, reason=" ", now=now)
    with pytest.raises(ReviewError, match="辟谣"):
        tip_review.decide(
            db, rt.settings, first, cluster, verdict=ClusterStatus.RUMOR, reason="经核实", now=now
        )
    with pytest.raises(ReviewError, match="核查结论"):
        tip_review.decide(db, rt.settings, first, cluster, verdict=ClusterStatus.PENDING, reason="x", now=now)
    tip_review.decide(
        db,
        rt.settings,
        first,
        cluster,
        verdict=ClusterStatus.RUMOR,
        reason="经核实，县政府未发布封城通知",
        debunk="兰西没有封城，超市正常营业，请勿囤货。",
        now=now,
    )
    assert cluster.status == ClusterStatus.RUMOR and cluster.decided_by_id == first.user_id
    assert cluster.assignee_id is None and cluster.decision_round == 1
    assert history(db, cluster)[-1] == ("decide", "pending", "rumor")
    with pytest.raises(ReviewError, match="已有结论"):
        tip_review.decide(db, rt.settings, first, cluster, verdict=ClusterStatus.TRUE, reason="x", now=now)


def test_reopening_a_decision_needs_a_reason_and_allows_a_new_verdict(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor, second: Actor, now: datetime
) -> None:
    tip_review.decide(
        db, rt.settings, first, cluster, verdict=ClusterStatus.UNVERIFIABLE, reason="暂无", now=now
    )
    with pytest.raises(ReviewError, match="理由"):
        tip_review.reopen(db, rt.settings, second, cluster, reason="", now=now)
    tip_review.reopen(db, rt.settings, second, cluster, reason="有了新证据", now=now)
    tip_review.decide(db, rt.settings, second, cluster, verdict=ClusterStatus.TRUE, reason="属实", now=now)
    assert cluster.status == ClusterStatus.TRUE and cluster.decision_round == 2
    assert cluster.debunk_text == ""


def test_merge_moves_every_tip_and_the_source_leaves_the_queue(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor, second: Actor, now: datetime
) -> None:
    other = cluster_of(db, make_tip(db, rt.settings, "喝板蓝根、熏醋可以杀死新冠病毒", reporter="3.3.3.3"))
    tip_review.claim(db, rt.settings, second, other, now=now)
    with pytest.raises(ReviewError, match="网警乙"):
        tip_review.merge(db, rt.settings, first, other, cluster, now=now)
    assert tip_review.merge(db, rt.settings, second, other, cluster, now=now) == 1
    assert other.merged_into_id == cluster.id and other.tip_count == 0
    assert (cluster.tip_count, cluster.reporter_count) == (3, 3)
    with pytest.raises(ReviewError, match="并入"):
        tip_review.claim(db, rt.settings, first, other, now=now)
    with pytest.raises(ReviewError, match="自身"):
        tip_review.merge(db, rt.settings, second, cluster, cluster, now=now)


def test_split_moves_the_chosen_tips_to_a_new_pending_cluster(
    rt: Runtime, db: Session, held: TipCluster, first: Actor, now: datetime
) -> None:
    cluster = held
    members = tips_of(db, cluster.id)
    with pytest.raises(ReviewError, match="全部"):
        tip_review.split(db, rt.settings, first, cluster, [t.id for t in members], now=now)
    with pytest.raises(ReviewError, match="选择"):
        tip_review.split(db, rt.settings, first, cluster, [999_999], now=now)
    part = tip_review.split(db, rt.settings, first, cluster, [members[1].id], now=now)
    assert part.status == ClusterStatus.PENDING and [t.id for t in tips_of(db, part.id)] == [members[1].id]
    assert cluster.tip_count == 1 and part.tip_count == 1
    assert history(db, part)[-1][0] == "split_in"


def test_a_lead_goes_to_a_station_once_without_the_reporters(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor, now: datetime
) -> None:
    station = make_station(db, "兰西镇派出所")
    due = date.today() + timedelta(days=3)
    lead, created = tip_review.create_lead(
        db, rt.settings, first, cluster, station=station, due_date=due, task="查找源头", now=now
    )
    again, created_again = tip_review.create_lead(
        db, rt.settings, first, cluster, station=station, due_date=due, task="", now=now
    )
    assert created and not created_again and again.id == lead.id
    assert (lead.source, lead.station_id, lead.cluster_id, lead.due_date) == (
        LeadSource.TIP,
        station.id,
        cluster.id,
        due,
    )
    assert "查找源头" in lead.detail and "2 人" in lead.detail
    for tip in tips_of(db, cluster.id):
        assert tip.reporter_hash not in lead.detail and tip.ticket not in lead.detail
    township = station.parent
    assert township is not None
    with pytest.raises(ReviewError, match="派出所"):
        tip_review.create_lead(
            db, rt.settings, first, cluster, station=township, due_date=due, task="", now=now
        )
    with pytest.raises(ReviewError, match="期限"):
        tip_review.create_lead(
            db, rt.settings, first, cluster, station=station, due_date=date(2020, 1, 1), task="", now=now
        )


def test_the_station_outcome_is_recorded_on_the_lead(db: Session, tip_lead: Lead) -> None:
    lead = tip_lead
    officer = reviewer(db, "民警", Role.STATION_OFFICER, lead.station)
    with pytest.raises(leads.LeadError):
        leads.record_outcome(db, officer, lead, "已上门核查")  # a check-in outcome, not a tip one
    leads.record_outcome(db, officer, lead, "批评教育", "已找到发布人，当面批评教育")
    assert (lead.outcome, lead.outcome_note) == ("批评教育", "已找到发布人，当面批评教育")


def test_a_debunk_becomes_one_advisory_draft(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor
) -> None:
    with pytest.raises(ReviewError, match="谣言"):
        tip_review.debunk_to_advisory(db, first, cluster)
    tip_review.decide(
        db,
        rt.settings,
        first,
        cluster,
        verdict=ClusterStatus.RUMOR,
        reason="假",
        debunk="兰西没有封城。",
        now=utcnow(),
    )
    advisory, created = tip_review.debunk_to_advisory(db, first, cluster)
    again, created_again = tip_review.debunk_to_advisory(db, first, cluster)
    assert created and not created_again and again.id == advisory.id
    assert (advisory.status, advisory.body, advisory.created_by_id) == (
        AdvisoryStatus.DRAFT,
        "兰西没有封城。",
        first.user_id,
    )
    assert cluster.advisory_id == advisory.id and db.scalar(select(Advisory.id)) == advisory.id


def test_blocking_needs_a_wechat_reporter(rt: Runtime, db: Session, first: Actor) -> None:
    form_tip = make_tip(db, rt.settings, RUMOR)
    with pytest.raises(ReviewError, match="微信"):
        tip_review.set_reporter_blocked(db, first, form_tip, blocked=True)


def test_overdue_is_measured_from_the_first_tip_while_undecided(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor
) -> None:
    hours = rt.settings.tips.review_overdue_hours
    assert not tip_review.is_overdue(cluster, cluster.first_seen + timedelta(hours=hours), rt.settings)
    late = cluster.first_seen + timedelta(hours=hours, minutes=1)
    assert tip_review.is_overdue(cluster, late, rt.settings)
    tip_review.decide(db, rt.settings, first, cluster, verdict=ClusterStatus.TRUE, reason="属实", now=late)
    assert not tip_review.is_overdue(cluster, late, rt.settings)


def test_leads_of_tips_are_listed_for_the_cluster(db: Session, cluster: TipCluster, tip_lead: Lead) -> None:
    assert db.scalars(select(Lead.cluster_id)).all() == [cluster.id]


def test_retention_erases_who_reported_decided_tips_but_keeps_the_record(
    rt: Runtime, db: Session, cluster: TipCluster, first: Actor
) -> None:
    from bot.services import tips

    contacted = make_tip(db, rt.settings, RUMOR + "？", contact="13600004444")
    open_one = make_tip(db, rt.settings, "另一条还没核查的：明天全县停气", contact="13500005555")
    decided_at = utcnow() - timedelta(days=rt.settings.privacy.retention_days + 1)
    tip_review.decide(
        db, rt.settings, first, cluster, verdict=ClusterStatus.TRUE, reason="属实", now=decided_at
    )
    assert tips.purge_reporters(db, rt.settings, decided_at + timedelta(days=1)) == 0  # not old enough yet
    assert tips.purge_reporters(db, rt.settings, utcnow()) == 3
    db.flush()
    assert contacted.reporter_contact is None and contacted.purged_at is not None and contacted.text
    assert open_one.reporter_contact == "13500005555" and open_one.purged_at is None
    assert tips.purge_reporters(db, rt.settings, utcnow()) == 0
    assert cluster.reporter_count == 3


def test_two_reviewers_claiming_at_once_exactly_one_holds(
    committing_engine: Engine, base_settings: Settings
) -> None:
    own = Runtime(base_settings, committing_engine, make_sessionmaker(committing_engine))
    with own.session() as db:
        cluster_id = cluster_of(db, make_tip(db, own.settings, RUMOR)).id
        ids = [reviewer(db, f"网警{n}").user_id for n in range(4)]
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def claim(user_id: int | None) -> None:
        with own.session() as db:
            barrier.wait()
            begin_immediate(db)  # as the panel's POST handlers do (SQLite: take the write lock first)
            cluster = db.get(TipCluster, cluster_id)
            assert cluster is not None
            try:
                tip_review.claim(db, own.settings, Actor(user_id, f"u{user_id}"), cluster, now=utcnow())
                outcomes.append("held")
            except ReviewError:
                outcomes.append("refused")

    threads = [threading.Thread(target=claim, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["held", "refused", "refused", "refused"]
    with own.session() as db:
        cluster = db.get(TipCluster, cluster_id)
        assert cluster is not None and cluster.assignee_id in ids
        claims = db.scalars(select(TipReview).where(TipReview.action == "claim")).all()
        assert [c.staff_id for c in claims] == [cluster.assignee_id]
