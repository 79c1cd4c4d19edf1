"""Helpers for the tip tests: chatting with the bot through the real router, filing tips, fake WeChat."""

from __future__ import annotations

import itertools
import time
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings, replace
from bot.conversations import handlers
from bot.inbound import dispatch
from bot.models import (
    ClusterStatus,
    Jurisdiction,
    Lead,
    Role,
    StaffUser,
    Tip,
    TipCluster,
    WeChatIdentity,
    utcnow,
)
from bot.runtime import Runtime
from bot.services import identities, jurisdictions, tip_review
from bot.services.audit import Actor
from bot.wechat.messages import InboundMessage
from tests.factories import make_station

_msgids = itertools.count(int(time.time() * 1000))
VERDICT_TEMPLATE = "lanxi-tip-verdict-template"


class Chat:
    """One WeChat user talking to the Official Account, message by message, through inbound.dispatch."""

    def __init__(self, rt: Runtime, openid: str) -> None:
        self.rt, self.openid = rt, openid
        self.handler = handlers(rt.settings)["official_account"]
        self.account = rt.settings.wechat.app_id

    def send(self, text: str | None = None, *, msg_type: str = "text", **fields: Any) -> str:
        if text is not None and msg_type == "text":
            fields["content"] = text
        msg = InboundMessage(
            account=self.account,
            sender=self.openid,
            create_time=int(time.time()),
            msg_type=msg_type,
            msg_id=None if msg_type == "event" else str(next(_msgids)),
            **fields,
        )
        return dispatch(self.rt, self.account, msg, self.handler)

    def identity(self, db: Session) -> WeChatIdentity:
        return identities.get_or_create(db, self.account, self.openid)

    def file(self, content: str, where: str = "小区业主群", when: str = "今天上午") -> str:
        """The whole intake conversation for a text tip; the bot's closing reply."""
        self.send("举报")
        self.send(content)
        self.send(where)
        return self.send(when)


def cluster_of(db: Session, tip: Tip) -> TipCluster:
    db.refresh(tip)
    assert tip.cluster_id is not None
    cluster = db.get(TipCluster, tip.cluster_id)
    assert cluster is not None
    db.refresh(cluster)
    return cluster


def tips_of(db: Session, cluster_id: int) -> list[Tip]:
    return list(db.scalars(select(Tip).where(Tip.cluster_id == cluster_id).order_by(Tip.id)))


def pointed_at(settings: Settings, url: str) -> Settings:
    return replace(settings, wechat={"api_base_url": url, "open_base_url": url}, wecom={"api_base_url": url})


def reviewer(
    db: Session, name: str, role: Role = Role.CYBER_POLICE, jurisdiction: Jurisdiction | None = None
) -> Actor:
    """A staff member for service tests: no password to hash (signing in is tested elsewhere)."""
    user = StaffUser(
        username=f"{role.value}-{next(_msgids)}",
        display_name=name,
        role=role,
        jurisdiction_id=(jurisdiction or jurisdictions.county(db)).id,
        password_hash="!",
    )
    db.add(user)
    db.flush()
    return Actor.staff(user)


def rumor_lead(
    rt: Runtime,
    db: Session,
    police: Actor,
    cluster: TipCluster,
    *,
    reason: str,
    debunk: str,
    station: str,
    task: str,
) -> Lead:
    """``police`` finds the cluster a rumor and sends a lead, due today, to a new station."""
    tip_review.decide(
        db,
        rt.settings,
        police,
        cluster,
        verdict=ClusterStatus.RUMOR,
        reason=reason,
        debunk=debunk,
        now=utcnow(),
    )
    lead, _ = tip_review.create_lead(
        db,
        rt.settings,
        police,
        cluster,
        station=make_station(db, station),
        due_date=date.today(),
        task=task,
        now=utcnow(),
    )
    return lead
