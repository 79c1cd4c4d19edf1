"""One realistic day for the report tests: two townships, three stations, every kind of figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.models import (
    Advisory,
    AdvisoryStatus,
    CheckinStatus,
    ClusterStatus,
    Delivery,
    GroupKind,
    Health,
    Jurisdiction,
    LeadSource,
    LeadStatus,
    OutboxMessage,
    OutboxStatus,
    ReachEvent,
    ReachKind,
    Resident,
    ResidentStatus,
    Tip,
    TipChannel,
    TipCluster,
    WeChatGroup,
    WeChatIdentity,
)
from tests.factories import make_checkin, make_lead, make_resident, make_station, make_visit

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 2, 15)
# 20:30 local time on DAY, the report's default drafting time.
NOW = datetime(2020, 2, 15, 12, 30, tzinfo=UTC)
MORNING = datetime(2020, 2, 15, 2, 0, tzinfo=UTC)  # 10:00 local
YESTERDAY_EVENING = datetime(2020, 2, 14, 12, 0, tzinfo=UTC)


@dataclass
class Day:
    north: Jurisdiction  # station in 北城镇
    south: Jurisdiction  # station in 南湖乡
    fever: Resident
    residents: list[Resident]


def build(db: Session) -> Day:
    north = make_station(db, "北城派出所", "北城镇")
    south = make_station(db, "南湖派出所", "南湖乡")
    n = [make_resident(db, north, name=f"北城居民{i}") for i in range(4)]
    s = [make_resident(db, south, name=f"南湖居民{i}") for i in range(3)]
    make_resident(db, south, name="已解除人员", status=ResidentStatus.CLOSED)
    fever = make_resident(db, north, name="张三丰", current_city="武汉")
    for resident in (*n[:3], fever):
        db.add(WeChatIdentity(account="wx", openid=f"o{resident.id}", resident_id=resident.id))
    prompted = {"prompted_at": MORNING}
    make_checkin(db, n[0], DAY, status=CheckinStatus.ANSWERED, health=Health.NORMAL, **prompted)
    make_checkin(db, n[1], DAY, status=CheckinStatus.ANSWERED, health=Health.NORMAL, **prompted)
    make_checkin(db, n[2], DAY, status=CheckinStatus.PHONE_LIST, **prompted)
    make_checkin(db, n[3], DAY, status=CheckinStatus.REACHED_BY_PHONE, health=Health.SYMPTOMS, abnormal=True)
    make_checkin(
        db,
        fever,
        DAY,
        status=CheckinStatus.ANSWERED,
        health=Health.FEVER,
        temperature=Decimal("38.2"),
        abnormal=True,
        whereabouts_city="武汉",
        **prompted,
    )
    make_checkin(db, s[0], DAY, status=CheckinStatus.ANSWERED, health=Health.NORMAL, **prompted)
    make_checkin(db, s[1], DAY, status=CheckinStatus.NOT_REACHED)
    make_checkin(db, s[2], DAY - timedelta(days=1), status=CheckinStatus.ANSWERED)  # another day
    make_visit(db, n[2], DAY)
    make_visit(db, n[2], DAY)  # the same resident twice: one person visited
    make_visit(db, s[1], DAY - timedelta(days=2))
    make_lead(db, north, resident_id=fever.id, due_date=DAY + timedelta(days=1), created_at=MORNING)
    make_lead(db, north, resident_id=n[3].id, due_date=DAY - timedelta(days=2), status=LeadStatus.IN_PROGRESS)
    make_lead(
        db,
        south,
        source=LeadSource.TIP,
        status=LeadStatus.DONE,
        outcome="批评教育",
        closed_at=MORNING,
        due_date=DAY - timedelta(days=5),
    )
    _tips_and_advisories(db)
    db.flush()
    return Day(north, south, fever, [*n, *s, fever])


def _tips_and_advisories(db: Session) -> None:
    cluster = TipCluster(
        summary="某小区有确诊", status=ClusterStatus.RUMOR, first_seen=MORNING, last_seen=MORNING
    )
    old = TipCluster(summary="旧传言", status=ClusterStatus.PENDING, first_seen=YESTERDAY_EVENING)
    db.add_all([cluster, old])
    db.flush()
    for i, at in enumerate((MORNING, MORNING, YESTERDAY_EVENING)):
        db.add(
            Tip(
                ticket=f"T20200215-{i:04d}",
                cluster_id=cluster.id,
                channel=TipChannel.WECHAT,
                reporter_hash=f"h{i}",
                text="某小区有确诊",
                created_at=at,
            )
        )
    advisory = Advisory(
        title="致在外兰西人的一封信",
        body="……",
        status=AdvisoryStatus.SENT,
        public_token="tok-report-1",
        started_at=MORNING,
        sent_at=MORNING,
    )
    db.add(advisory)
    db.flush()
    for i, (kind, outbox_status) in enumerate(
        ((GroupKind.WECOM_ROBOT, OutboxStatus.SENT), (GroupKind.WECOM_ROBOT, OutboxStatus.FAILED))
    ):
        group = WeChatGroup(name=f"群{i}", kind=kind)
        row = OutboxMessage(
            idempotency_key=f"advisory:{advisory.id}:{i}",
            channel="wecom_robot",
            rate_key="robot:x",
            recipient="key",
            payload={},
            status=outbox_status,
        )
        db.add_all([group, row])
        db.flush()
        db.add(
            Delivery(
                advisory_id=advisory.id,
                group_id=group.id,
                share_token=f"s{advisory.id}-{i}",
                outbox_id=row.id,
            )
        )
    manual = WeChatGroup(name="人工群", kind=GroupKind.MANUAL)
    db.add(manual)
    db.flush()
    delivery = Delivery(
        advisory_id=advisory.id, group_id=manual.id, share_token=f"m{advisory.id}", forwarded_at=MORNING
    )
    db.add(delivery)
    db.flush()
    for i, kind in enumerate((ReachKind.OPEN, ReachKind.OPEN, ReachKind.SHARE)):
        db.add(
            ReachEvent(
                advisory_id=advisory.id, delivery_id=delivery.id, kind=kind, at=MORNING, dedupe_key=f"r{i}"
            )
        )
