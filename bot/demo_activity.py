"""The demo's recent activity, made through the same services staff and residents use:
station QR codes, leads from abnormal check-ins, rumor tips in clusters, advisories in every state.
"""

from __future__ import annotations

import json
import random
import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import (
    Advisory,
    Checkin,
    Decision,
    GroupKind,
    Jurisdiction,
    JurisdictionKind,
    LeadPriority,
    LeadSource,
    Role,
    StaffUser,
    TipChannel,
    utcnow,
)
from bot.services import advisories, advisory_sending, binding, leads, staff, tips
from bot.services.advisory_targets import Targeting
from bot.services.audit import CLI, Actor

TIP_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "tip_eval.jsonl"
TIP_CLUSTERS = 8
PLACES = ["本地微信群", "家长群", "朋友圈", "抖音", "小区业主群", "快手"]
ADVISORY_BODY = (
    "全县广大人民群众：\n当前正处于疫情防控关键时期。请大家少出门、不聚集，出门戴口罩，勤洗手、常通风；"
    "不信谣、不传谣，发现发热、咳嗽等症状请及时就医并主动报告所在派出所。\n"
    "{{ county }}公安局 {{ date }}\n咨询电话：{{ hotline }}"
)


def add_activity(db: Session, settings: Settings, rng: random.Random) -> None:
    now = utcnow()
    for station in db.scalars(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.STATION)):
        binding.scene_for_station(db, station.id)
    _checkin_leads(db, rng, now)
    _tips(db, settings, rng, now)
    _advisories(db, settings, now)


def _checkin_leads(db: Session, rng: random.Random, now: datetime) -> None:
    abnormal = db.scalars(
        select(Checkin).where(Checkin.abnormal).order_by(Checkin.day.desc()).limit(60)
    ).all()
    for checkin in abnormal:
        lead, _ = leads.create(
            db,
            leads.NewLead(
                source=LeadSource.CHECKIN,
                cause_key=f"checkin:{checkin.id}:health",
                station_id=checkin.station_id,
                title=f"报平安异常（{checkin.day.month}月{checkin.day.day}日）",
                detail="居民在每日报平安中报告健康异常，请核实。",
                priority=LeadPriority.HIGH,
                resident_id=checkin.resident_id,
                checkin_id=checkin.id,
                due_date=checkin.day + timedelta(days=1),
            ),
        )
        if checkin.day < now.date() - timedelta(days=1) and rng.random() < 0.8:
            leads.record_outcome(db, CLI, lead, rng.choice(leads.CHECKIN_OUTCOMES[:4]), "已按流程处置")


def _tips(db: Session, settings: Settings, rng: random.Random, now: datetime) -> None:
    if not TIP_SET.is_file():
        return
    by_label: dict[str, list[str]] = defaultdict(list)
    for line in TIP_SET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        by_label[item["cluster"]].append(item["text"])
    biggest = sorted(by_label.values(), key=len, reverse=True)[:TIP_CLUSTERS]
    for texts in biggest:
        for text in texts[: rng.randint(3, 8)]:
            tips.submit(
                db,
                settings,
                tips.NewTip(
                    channel=rng.choice([TipChannel.WECHAT, TipChannel.FORM]),
                    reporter_hash=tips.reporter_hash_of_client(secrets.token_hex(8)),
                    text=text,
                    seen_where=rng.choice(PLACES),
                    seen_when="今天上午",
                ),
                now=now - timedelta(hours=rng.randint(1, 72)),
            )


def _account(db: Session, username: str, role: Role, where: Jurisdiction) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:  # demo_logins gives it a password that is printed
        user = staff.create_user(
            db, CLI, username=username, role=role, jurisdiction=where, password=staff.generate_password()
        )
    return user


def _advisories(db: Session, settings: Settings, now: datetime) -> None:
    from bot.services import jurisdictions

    county = jurisdictions.county(db)
    composer = _account(db, "admin", Role.ADMIN, county)
    approvers = {
        "propaganda": _account(db, "xuanchuan", Role.PROPAGANDA, county),
        "leader": _account(db, "leader", Role.LEADER, county),
    }
    everyone = Targeting(kinds=frozenset({GroupKind.WECOM_ROBOT, GroupKind.MANUAL, GroupKind.OA_TAG}))
    sent = _compose(db, composer, "关于做好疫情防控的倡议书", everyone)
    if set(advisories.chain(settings)) <= set(approvers):  # the default chain; a custom one stays pending
        _approve_all(db, settings, sent, approvers, now)
        advisory_sending.start(db, settings, Actor.staff(composer), sent, now)
    pending = _compose(db, composer, "致在外兰西籍人员的一封信", everyone)
    advisories.submit(db, settings, Actor.staff(composer), pending, now)
    _compose(db, composer, "不信谣不传谣倡议（草稿）", everyone)


def _compose(db: Session, composer: StaffUser, title: str, targets: Targeting) -> Advisory:
    draft = advisories.Draft(title=title, body=ADVISORY_BODY, targets=targets)
    return advisories.create(db, Actor.staff(composer), draft)


def _approve_all(
    db: Session, settings: Settings, advisory: Advisory, approvers: dict[str, StaffUser], now: datetime
) -> None:
    advisories.submit(db, settings, Actor(advisory.created_by_id, "admin"), advisory, now)
    for role in advisories.chain(settings):
        user = approvers[role]
        advisories.decide(db, settings, user, Actor.staff(user), advisory, Decision.APPROVE, "同意", now)
