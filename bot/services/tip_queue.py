"""What the review pages show: the queue of clusters, one cluster in full, a tip lead's summary.

Read-only. Reporters appear to reviewers only as a short keyed-hash label (the same person's
tips share it) and their optional form contact; the lead summary for stations has no reporter
data at all (need-to-know).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import (
    ClusterStatus,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    StaffUser,
    Tip,
    TipCluster,
    TipMedia,
    TipReview,
    WeChatIdentity,
)

from .tip_review import OPEN, VERDICTS, Policy, holder_id, is_overdue, status_label

Ts = TypeVarTuple("Ts")
StatusFilter = Literal["open", "decided", "all"]
SortOrder = Literal["new", "big"]
THUMBNAILS = 3
PER_PAGE = 30


@dataclass(frozen=True)
class QueueRow:
    cluster: TipCluster
    status_label: str
    holder: str  # "" when nobody holds it
    overdue: bool
    thumbnails: tuple[int, ...]  # TipMedia ids of its first pictures


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _staff_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username).where(StaffUser.id.in_(ids))
    )
    return {user_id: display or username for user_id, display, username in rows}


def _filtered(stmt: Select[*Ts], status: StatusFilter) -> Select[*Ts]:
    stmt = stmt.where(TipCluster.merged_into_id.is_(None), TipCluster.tip_count > 0)
    if status == "open":
        return stmt.where(TipCluster.status.in_(OPEN))
    if status == "decided":
        return stmt.where(TipCluster.status.in_(VERDICTS))
    return stmt


def thumbnails(
    db: Session, cluster_ids: Sequence[int], per_cluster: int = THUMBNAILS
) -> dict[int, tuple[int, ...]]:
    """The first pictures of each cluster, by TipMedia id (the bytes are not loaded)."""
    if not cluster_ids:
        return {}
    rank = func.row_number().over(partition_by=Tip.cluster_id, order_by=TipMedia.id).label("rank")
    ranked = (
        select(TipMedia.id.label("media_id"), Tip.cluster_id.label("cluster_id"), rank)
        .join(Tip, Tip.id == TipMedia.tip_id)
        .where(Tip.cluster_id.in_(cluster_ids), TipMedia.kind == "image")
        .subquery()
    )
    found: dict[int, list[int]] = defaultdict(list)
    rows = db.execute(
        select(ranked.c.cluster_id, ranked.c.media_id)
        .where(ranked.c.rank <= per_cluster)
        .order_by(ranked.c.cluster_id, ranked.c.media_id)
    )
    for cluster_id, media_id in rows:
        found[cluster_id].append(media_id)
    return {cluster_id: tuple(ids) for cluster_id, ids in found.items()}


def queue(
    db: Session,
    settings: Settings,
    *,
    now: datetime,
    status: StatusFilter = "open",
    sort: SortOrder = "new",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> QueuePage:
    """Clusters for review: by default the undecided, newest activity first, then the most reporters."""
    total = db.scalar(_filtered(select(func.count(TipCluster.id)), status)) or 0
    newest, largest = TipCluster.last_seen.desc(), TipCluster.reporter_count.desc()
    order = (newest, largest) if sort == "new" else (largest, newest)
    page = max(1, page)
    clusters = list(
        db.scalars(
            _filtered(select(TipCluster), status)
            .order_by(*order, TipCluster.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    policy = Policy.of(settings)
    holders = {c.id: holder_id(c, now, policy) for c in clusters}
    names = _staff_names(db, {h for h in holders.values() if h is not None})
    thumbs = thumbnails(db, [c.id for c in clusters])
    rows = [
        QueueRow(
            cluster=c,
            status_label=status_label(c.status),
            holder=names.get(holders[c.id] or 0, ""),
            overdue=is_overdue(c, now, settings),
            thumbnails=thumbs.get(c.id, ()),
        )
        for c in clusters
    ]
    return QueuePage(rows, int(total), page, per_page)


# --- one cluster -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInfo:
    id: int
    kind: str
    content_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class TipRow:
    tip: Tip
    reporter: str  # a short label: the same reporter's tips share it
    contact: str  # what a form reporter left to be reached by ("" if nothing)
    media: tuple[MediaInfo, ...]
    blocked: bool | None  # whether the WeChat reporter is blocked; None for form reporters


@dataclass(frozen=True)
class ReviewRow:
    review: TipReview
    staff: str
    from_label: str
    to_label: str


@dataclass(frozen=True)
class ClusterView:
    cluster: TipCluster
    status_label: str
    holder_id: int | None
    holder: str
    overdue: bool
    tips: list[TipRow]
    reviews: list[ReviewRow]
    leads: list[Lead]
    merged_from: list[int]


def reporter_label(tip: Tip) -> str:
    source = "微信" if tip.channel == "wechat" else "表单"
    return f"{source}·{tip.reporter_hash[:6]}"


def media_of(db: Session, tip_ids: Sequence[int]) -> dict[int, list[MediaInfo]]:
    found: dict[int, list[MediaInfo]] = defaultdict(list)
    if not tip_ids:
        return found
    rows = db.execute(
        select(
            TipMedia.tip_id, TipMedia.id, TipMedia.kind, TipMedia.content_type, TipMedia.sha256, TipMedia.size
        )
        .where(TipMedia.tip_id.in_(tip_ids))
        .order_by(TipMedia.id)
    )
    for tip_id, media_id, kind, content_type, sha256, size in rows:
        found[tip_id].append(MediaInfo(media_id, kind, content_type, sha256, size))
    return found


def cluster_view(db: Session, settings: Settings, cluster: TipCluster, *, now: datetime) -> ClusterView:
    tips = list(db.scalars(select(Tip).where(Tip.cluster_id == cluster.id).order_by(Tip.created_at, Tip.id)))
    media = media_of(db, [t.id for t in tips])
    reviews = list(
        db.scalars(select(TipReview).where(TipReview.cluster_id == cluster.id).order_by(TipReview.id))
    )
    holder = holder_id(cluster, now, Policy.of(settings))
    names = _staff_names(db, {r.staff_id for r in reviews} | ({holder} if holder else set()))
    leads = list(db.scalars(select(Lead).where(Lead.cluster_id == cluster.id).order_by(Lead.id)))
    merged_from = list(db.scalars(select(TipCluster.id).where(TipCluster.merged_into_id == cluster.id)))
    identity_ids = {t.reporter_identity_id for t in tips if t.reporter_identity_id}
    blocked: dict[int, bool] = {
        identity_id: is_blocked
        for identity_id, is_blocked in db.execute(
            select(WeChatIdentity.id, WeChatIdentity.tips_blocked).where(WeChatIdentity.id.in_(identity_ids))
        )
    }
    return ClusterView(
        cluster=cluster,
        status_label=status_label(cluster.status),
        holder_id=holder,
        holder=names.get(holder or 0, ""),
        overdue=is_overdue(cluster, now, settings),
        tips=[
            TipRow(
                t,
                reporter_label(t),
                t.reporter_contact or "",
                tuple(media.get(t.id, ())),
                blocked.get(t.reporter_identity_id) if t.reporter_identity_id else None,
            )
            for t in tips
        ],
        reviews=[
            ReviewRow(r, names.get(r.staff_id, ""), status_label(r.from_status), status_label(r.to_status))
            for r in reviews
        ],
        leads=leads,
        merged_from=merged_from,
    )


def media_content(db: Session, media_id: int) -> tuple[TipMedia, int | None] | None:
    """A stored file and the cluster its tip is in (for the scope and audit of whoever views it)."""
    row = db.execute(
        select(TipMedia, Tip.cluster_id).join(Tip, Tip.id == TipMedia.tip_id).where(TipMedia.id == media_id)
    ).first()
    return (row[0], row[1]) if row else None


def stations(db: Session) -> Sequence[Jurisdiction]:
    return db.scalars(
        select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.STATION).order_by(Jurisdiction.name)
    ).all()


def open_clusters(db: Session, limit: int = 200) -> Sequence[TipCluster]:
    """Merge targets to choose from: live clusters, most recent first."""
    return db.scalars(
        _filtered(select(TipCluster), "all").order_by(TipCluster.last_seen.desc()).limit(limit)
    ).all()


# --- for the station's lead page --------------------------------------------------------------------


@dataclass(frozen=True)
class LeadTipSummary:
    """A tip lead as a station sees it: the rumor, its spread and the verdict; no reporter at all."""

    cluster_id: int
    summary: str
    status: ClusterStatus
    status_label: str
    decided: bool
    debunk: str
    tip_count: int
    reporter_count: int
    first_seen: datetime
    last_seen: datetime
    places: tuple[str, ...]
    samples: tuple[str, ...]  # a few distinct wordings of the rumor


def lead_summary(db: Session, lead: Lead, samples: int = 3) -> LeadTipSummary | None:
    if lead.cluster_id is None:
        return None
    cluster = db.get(TipCluster, lead.cluster_id)
    if cluster is None:
        return None
    texts = db.scalars(
        select(Tip.text).where(Tip.cluster_id == cluster.id, Tip.text != "").order_by(Tip.id).limit(50)
    ).all()
    distinct = tuple(dict.fromkeys(texts))[:samples]
    return LeadTipSummary(
        cluster_id=cluster.id,
        summary=cluster.summary,
        status=cluster.status,
        status_label=status_label(cluster.status),
        decided=cluster.status in VERDICTS,
        debunk=cluster.debunk_text,
        tip_count=cluster.tip_count,
        reporter_count=cluster.reporter_count,
        first_seen=cluster.first_seen,
        last_seen=cluster.last_seen,
        places=tuple(cluster.seen_places or ()),
        samples=distinct,
    )
