"""Cyber-police review of tip clusters: holding, deciding, merging and splitting, leads, debunks.

Statuses: 待审核 (pending) → 核查中 (investigating) → 谣言 / 属实 / 无法核实 / 不予处理, each decision
with a reason (and, for a rumor, the debunk text). A reviewer works on a cluster by holding it;
the holder is shown to everyone, and another reviewer's action is refused while the hold is
fresh (``[tips] claim_stale_minutes`` since the holder's last action) unless it is released.
Every step is kept in TipReview and the audit log. A decision tells every reporter the verdict
(``tip_replies``); a cluster can become a lead for a station without the reporters' identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import local_today
from bot.config import Settings
from bot.models import (
    Advisory,
    ClusterStatus,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    LeadSource,
    StaffUser,
    Tip,
    TipCluster,
    TipReview,
    WeChatIdentity,
)
from bot.services import advisories, audit, leads, tip_placement, tip_replies
from bot.services.audit import Actor
from bot.services.labels import label

OPEN = frozenset({ClusterStatus.PENDING, ClusterStatus.INVESTIGATING})
VERDICTS = (ClusterStatus.RUMOR, ClusterStatus.TRUE, ClusterStatus.UNVERIFIABLE, ClusterStatus.DISMISSED)
MAX_REASON = 2000
MAX_DEBUNK = 2000


class ReviewError(Exception):
    """A refused review step; the message is shown to the reviewer."""


@dataclass(frozen=True)
class Policy:
    stale_after: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(timedelta(minutes=settings.tips.claim_stale_minutes))


def status_label(status: ClusterStatus | str) -> str:
    return label("cluster_status", status)


def holder_id(cluster: TipCluster, now: datetime, policy: Policy) -> int | None:
    """Who holds the cluster now (None when nobody does or the hold went stale)."""
    if cluster.assignee_id is None or cluster.assigned_at is None:
        return None
    if now - cluster.assigned_at >= policy.stale_after:
        return None
    return cluster.assignee_id


def is_overdue(cluster: TipCluster, now: datetime, settings: Settings) -> bool:
    """Undecided for longer than ``[tips] review_overdue_hours`` since its first tip."""
    waited = now - cluster.first_seen
    return cluster.status in OPEN and waited > timedelta(hours=settings.tips.review_overdue_hours)


def _staff_name(db: Session, user_id: int) -> str:
    user = db.get(StaffUser, user_id)
    return (user.display_name or user.username) if user else "其他人"


def _note(
    db: Session,
    actor: Actor,
    cluster: TipCluster,
    action: str,
    *,
    reason: str = "",
    before: ClusterStatus | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    assert actor.user_id is not None
    db.add(
        TipReview(
            cluster_id=cluster.id,
            staff_id=actor.user_id,
            action=action,
            from_status=str(before or cluster.status),
            to_status=str(cluster.status),
            reason=reason,
            detail=detail or {},
        )
    )
    audit.record(
        db, actor, f"tips.{action}", record_type="tip_cluster", record_id=cluster.id, **(detail or {})
    )


def _live(cluster: TipCluster) -> None:
    if cluster.merged_into_id is not None:
        raise ReviewError(f"该线索组已并入 #{cluster.merged_into_id}，请到那里处理")


def _ensure_free(db: Session, actor: Actor, cluster: TipCluster, now: datetime, policy: Policy) -> int | None:
    """The current holder, after refusing when it is someone other than ``actor``."""
    if actor.user_id is None:
        raise ReviewError("只有网警账号可以审核")
    _live(cluster)
    holder = holder_id(cluster, now, policy)
    if holder is not None and holder != actor.user_id:
        raise ReviewError(f"该线索组正由 {_staff_name(db, holder)} 处理，请等对方释放后再操作")
    return holder


def _take(db: Session, actor: Actor, cluster: TipCluster, now: datetime, policy: Policy) -> None:
    """Make ``actor`` the holder (refreshing the hold), unless someone else holds it.

    The hold is taken by a conditional UPDATE, so of two reviewers claiming at the same moment
    exactly one succeeds (the other's UPDATE finds the row held once the first commits)."""
    fresh = _ensure_free(db, actor, cluster, now, policy) != actor.user_id
    db.flush()
    taken = db.execute(
        update(TipCluster)
        .where(
            TipCluster.id == cluster.id,
            or_(
                TipCluster.assignee_id.is_(None),
                TipCluster.assignee_id == actor.user_id,
                TipCluster.assigned_at <= now - policy.stale_after,
            ),
        )
        .values(assignee_id=actor.user_id, assigned_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        db.refresh(cluster)
        _ensure_free(db, actor, cluster, now, policy)
        raise ReviewError("该线索组刚被其他人领取，请刷新后再试")
    set_committed_value(cluster, "assignee_id", actor.user_id)
    set_committed_value(cluster, "assigned_at", now)
    if fresh:
        _note(db, actor, cluster, "claim")


def claim(db: Session, settings: Settings, actor: Actor, cluster: TipCluster, *, now: datetime) -> None:
    """Take the cluster to work on it; a pending cluster moves to 核查中."""
    _take(db, actor, cluster, now, Policy.of(settings))
    if cluster.status == ClusterStatus.PENDING:
        cluster.status = ClusterStatus.INVESTIGATING
        _note(db, actor, cluster, "status", before=ClusterStatus.PENDING)


def release(db: Session, settings: Settings, actor: Actor, cluster: TipCluster, *, now: datetime) -> None:
    """Give the cluster back to the queue (only its holder can, or anyone once the hold is stale)."""
    holder = holder_id(cluster, now, Policy.of(settings))
    if holder is not None and holder != actor.user_id:
        raise ReviewError(f"该线索组正由 {_staff_name(db, holder)} 处理，只有本人可以释放")
    if cluster.assignee_id is None:
        return
    cluster.assignee_id, cluster.assigned_at = None, None
    _note(db, actor, cluster, "release")


def decide(
    db: Session,
    settings: Settings,
    actor: Actor,
    cluster: TipCluster,
    *,
    verdict: ClusterStatus,
    reason: str,
    debunk: str = "",
    now: datetime,
) -> int:
    """Record the verdict and queue it to every reporter; returns the number of messages queued."""
    if verdict not in VERDICTS:
        raise ReviewError("请选择核查结论：谣言、属实、无法核实或不予处理")
    if cluster.status not in OPEN:
        raise ReviewError("该线索组已有结论；如需改变，请先重新核查")
    reason, debunk = reason.strip(), debunk.strip()
    if not reason:
        raise ReviewError("请填写理由")
    if verdict == ClusterStatus.RUMOR and not debunk:
        raise ReviewError("认定为谣言时，请填写发给举报人的辟谣内容")
    _take(db, actor, cluster, now, Policy.of(settings))
    before = cluster.status
    cluster.status, cluster.reason = verdict, reason[:MAX_REASON]
    cluster.debunk_text = debunk[:MAX_DEBUNK] if verdict == ClusterStatus.RUMOR else ""
    cluster.decided_at, cluster.decided_by_id = now, actor.user_id
    cluster.decision_round += 1
    cluster.assignee_id, cluster.assigned_at = None, None  # done: back to the queue's view
    _note(db, actor, cluster, "decide", reason=cluster.reason, before=before)
    return tip_replies.reply_to_reporters(db, settings, cluster, now)


def reopen(
    db: Session, settings: Settings, actor: Actor, cluster: TipCluster, *, reason: str, now: datetime
) -> None:
    """A decided cluster back to 核查中 (a corrected verdict will reach the reporters again)."""
    if cluster.status in OPEN:
        raise ReviewError("该线索组尚未有结论")
    if not reason.strip():
        raise ReviewError("请填写重新核查的理由")
    _take(db, actor, cluster, now, Policy.of(settings))
    before = cluster.status
    cluster.status = ClusterStatus.INVESTIGATING
    _note(db, actor, cluster, "reopen", reason=reason.strip()[:MAX_REASON], before=before)


def merge(
    db: Session,
    settings: Settings,
    actor: Actor,
    source: TipCluster,
    target: TipCluster,
    *,
    now: datetime,
) -> int:
    """Move every tip of ``source`` into ``target``; returns how many tips moved."""
    if source.id == target.id:
        raise ReviewError("不能与自身合并")
    policy = Policy.of(settings)
    _ensure_free(db, actor, source, now, policy)  # both checked before either is taken
    _take(db, actor, target, now, policy)
    _take(db, actor, source, now, policy)
    tip_ids = list(db.scalars(select(Tip.id).where(Tip.cluster_id == source.id)))
    moved = tip_placement.move(db, tip_ids, target)
    source.merged_into_id = target.id
    source.assignee_id, source.assigned_at = None, None
    tip_placement.refresh_counters(db, source)
    tip_placement.refresh_counters(db, target)
    detail = {"source": source.id, "target": target.id, "tips": len(moved)}
    _note(db, actor, source, "merge_out", detail=detail)
    _note(db, actor, target, "merge_in", detail=detail)
    tip_replies.reply_to_reporters(db, settings, target, now, tips=moved)
    return len(moved)


def split(
    db: Session,
    settings: Settings,
    actor: Actor,
    cluster: TipCluster,
    tip_ids: Sequence[int],
    *,
    now: datetime,
) -> TipCluster:
    """Move the chosen tips of ``cluster`` into a new cluster of their own (待审核)."""
    members = set(db.scalars(select(Tip.id).where(Tip.cluster_id == cluster.id)))
    chosen = sorted(set(tip_ids))
    if not chosen or not set(chosen) <= members:
        raise ReviewError("请选择本组中要拆出的举报")
    if len(chosen) == len(members):
        raise ReviewError("不能把全部举报都拆出去")
    _take(db, actor, cluster, now, Policy.of(settings))
    first = db.get(Tip, chosen[0])
    assert first is not None
    part = TipCluster(
        summary=tip_placement.summarize(first), first_seen=first.created_at, last_seen=first.created_at
    )
    db.add(part)
    db.flush()
    tip_placement.move(db, chosen, part)
    tip_placement.refresh_counters(db, cluster)
    tip_placement.refresh_counters(db, part)
    detail = {"source": cluster.id, "target": part.id, "tips": len(chosen)}
    _note(db, actor, cluster, "split_out", detail=detail)
    _note(db, actor, part, "split_in", detail=detail)
    return part


# --- leads and debunks ------------------------------------------------------------------------------


def lead_cause_key(cluster_id: int, station_id: int) -> str:
    return f"tip-cluster:{cluster_id}:station:{station_id}"


def lead_detail(cluster: TipCluster) -> str:
    """What the station needs to know: the rumor and where it spread, never who reported it."""
    lines = [f"谣言内容：{cluster.summary}", f"举报 {cluster.tip_count} 次，涉及 {cluster.reporter_count} 人"]
    if cluster.seen_places:
        lines.append(f"传播渠道：{'、'.join(cluster.seen_places)}")
    lines.append(f"网警核查状态：{status_label(cluster.status)}")
    return "\n".join(lines)


def create_lead(
    db: Session,
    settings: Settings,
    actor: Actor,
    cluster: TipCluster,
    *,
    station: Jurisdiction,
    due_date: date,
    task: str,
    now: datetime,
) -> tuple[Lead, bool]:
    """A lead for ``station`` (locate the source, talk to the person ...); one per cluster and station."""
    _live(cluster)
    if station.kind != JurisdictionKind.STATION:
        raise ReviewError("请选择派出所")
    if due_date < local_today(settings.tz, now):
        raise ReviewError("办理期限不能早于今天")
    task = task.strip() or "查找谣言源头，对发布、转发人员开展工作"
    lead, created = leads.create(
        db,
        leads.NewLead(
            source=LeadSource.TIP,
            cause_key=lead_cause_key(cluster.id, station.id),
            station_id=station.id,
            title=f"谣言线索：{cluster.summary}"[:200],
            detail=f"{task[:1000]}\n\n{lead_detail(cluster)}",
            cluster_id=cluster.id,
            due_date=due_date,
        ),
    )
    if created:
        _note(
            db,
            actor,
            cluster,
            "lead",
            detail={"lead": lead.id, "station": station.id, "due": due_date.isoformat()},
        )
    return lead, created


def debunk_to_advisory(db: Session, actor: Actor, cluster: TipCluster) -> tuple[Advisory, bool]:
    """An advisory draft holding the debunk text, for the advisories' approval flow; made once."""
    if cluster.advisory_id is not None:
        existing = db.get(Advisory, cluster.advisory_id)
        if existing is not None:
            return existing, False
    if cluster.status != ClusterStatus.RUMOR or not cluster.debunk_text:
        raise ReviewError("只有认定为谣言并写了辟谣内容的线索组可以生成倡议书")
    draft = advisories.Draft(title=f"辟谣：{cluster.summary}"[:200], body=cluster.debunk_text)
    advisory = advisories.create(db, actor, draft)
    cluster.advisory_id = advisory.id
    _note(db, actor, cluster, "advisory", detail={"advisory": advisory.id})
    return advisory, True


def set_reporter_blocked(db: Session, actor: Actor, tip: Tip, *, blocked: bool) -> None:
    """Stop (or allow again) tips from the WeChat user behind ``tip``; their filed tips stay."""
    identity = db.get(WeChatIdentity, tip.reporter_identity_id) if tip.reporter_identity_id else None
    if identity is None:
        raise ReviewError("只能限制通过微信举报的人")
    identity.tips_blocked = blocked
    action = "tips.block_reporter" if blocked else "tips.unblock_reporter"
    audit.record(
        db, actor, action, record_type="tip_cluster", record_id=tip.cluster_id or "", ticket=tip.ticket
    )
