"""Placing tips into clusters with the in-memory ``TipIndex``, kept consistent with the database.

The database is the record; each process keeps one index per database and, before every
placement, replays the ``tip_index_log`` rows written since it last looked (placements and
reviewers' moves by any process). Placements and moves happen under one database-wide lock
(a PostgreSQL advisory transaction lock; SQLite's write lock), so log ids follow commit order
and two tips of one rumor arriving together cannot both start a cluster. The index only ever
learns from committed-or-own log rows; if the newest row it knows has vanished (a rolled-back
transaction), it rebuilds from the tips table. A fresh process builds its index on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import begin_immediate
from bot.models import Tip, TipCluster, TipCounter, TipIndexLog, TipMedia

from .tip_clustering import Match, StoredTip, TipIndex

# Up to this many stored tips a cold index is built inside the request that needs it (well under a
# second); beyond it, a WeChat callback leaves the tip for the tip_intake job rather than risk its 5 s.
COLD_BUILD_MAX_TIPS = 5000
# Any fixed 64-bit number naming "tip placement" among the database's advisory locks.
LOCK_KEY = 0x6C616E7869_746970  # "lanxi" "tip"
SUMMARY_CHARS = 80
MAX_PLACES = 10
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Placed:
    cluster: TipCluster
    created: bool  # the tip started a new cluster
    match: Match | None  # the stored tip it resembled, when it joined one


@dataclass
class _SyncedIndex:
    index: TipIndex = field(default_factory=TipIndex)
    last_log_id: int = 0
    last_mark: tuple[int, int] | None = None  # (tip_id, cluster_id) of that log row
    built: bool = False  # rebuilt from the database at least once in this process
    lock: threading.Lock = field(default_factory=threading.Lock)


_indexes: dict[str, _SyncedIndex] = {}
_indexes_lock = threading.Lock()


def placement_lock(db: Session) -> None:
    """Hold the placement lock until the transaction ends. Call before the intake's first read."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:
        begin_immediate(db)


def next_counter(db: Session, name: str) -> int:
    """Atomically raise the named counter and return its new value (1 for a new counter)."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(TipCounter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": TipCounter.value + 1})
        .returning(TipCounter.value)
    )
    value = db.execute(stmt).scalar_one()
    return int(value)


def quick_to_place(db: Session) -> bool:
    """Whether placing a tip now is quick: this process's index is built, or the tips are few."""
    synced = _indexes.get(_engine_key(db))
    if synced is not None and synced.built:
        return True
    return (db.scalar(select(func.count(Tip.id))) or 0) <= COLD_BUILD_MAX_TIPS


def summarize(tip: Tip) -> str:
    words = _SPACE_RE.sub(" ", tip.text).strip()
    if words:
        return words[:SUMMARY_CHARS]
    if tip.url:
        return tip.url[:SUMMARY_CHARS]
    return {"image": "[截图]", "voice": "[语音]"}.get(tip.kind, "[无文字内容]")


def place(db: Session, tip: Tip) -> Placed:
    """Put a flushed, unplaced tip into the cluster of its near-duplicates or a new cluster."""
    placement_lock(db)
    with _synced_index(db) as index:
        match = index.place(text=tip.text or None, url=tip.url or None, image_phash=tip.image_phash or None)
    cluster = _live_cluster(db, match.cluster_id) if match is not None else None
    created = cluster is None
    if cluster is None:
        cluster = TipCluster(summary=summarize(tip), first_seen=tip.created_at, last_seen=tip.created_at)
        db.add(cluster)
        db.flush()
    tip.cluster_id = cluster.id
    db.add(TipIndexLog(tip_id=tip.id, cluster_id=cluster.id))
    db.flush()
    refresh_counters(db, cluster)
    return Placed(cluster, created, None if created else match)


def move(db: Session, tip_ids: Sequence[int], target: TipCluster) -> list[Tip]:
    """Move tips to ``target`` (a reviewer's merge or split); every index follows."""
    placement_lock(db)
    tips = list(db.scalars(select(Tip).where(Tip.id.in_(tip_ids)).order_by(Tip.id)))
    for tip in tips:
        tip.cluster_id = target.id
        db.add(TipIndexLog(tip_id=tip.id, cluster_id=target.id))
    db.flush()
    return tips


def refresh_counters(db: Session, cluster: TipCluster) -> None:
    """Recount a cluster from its tips: tips, distinct reporters, first/last seen, places, media."""
    db.flush()
    count, reporters, first, last = db.execute(
        select(
            func.count(Tip.id),
            func.count(distinct(Tip.reporter_hash)),
            func.min(Tip.created_at),
            func.max(Tip.created_at),
        ).where(Tip.cluster_id == cluster.id)
    ).one()
    places = db.execute(
        select(Tip.seen_where, func.count(Tip.id).label("n"))
        .where(Tip.cluster_id == cluster.id, Tip.seen_where != "")
        .group_by(Tip.seen_where)
        .order_by(func.count(Tip.id).desc(), Tip.seen_where)
        .limit(MAX_PLACES)
    ).all()
    media = db.scalar(
        select(func.count(TipMedia.id))
        .join(Tip, Tip.id == TipMedia.tip_id)
        .where(Tip.cluster_id == cluster.id)
    )
    cluster.tip_count, cluster.reporter_count = int(count), int(reporters)
    cluster.media_count = int(media or 0)
    cluster.seen_places = [str(place) for place, _ in places]
    if first is not None:
        cluster.first_seen, cluster.last_seen = first, last


def _live_cluster(db: Session, cluster_id: int) -> TipCluster | None:
    """The cluster, following merges (a stale index may still name a merged-away cluster)."""
    cluster = db.get(TipCluster, cluster_id)
    seen: set[int] = set()
    while cluster is not None and cluster.merged_into_id is not None and cluster.id not in seen:
        seen.add(cluster.id)
        cluster = db.get(TipCluster, cluster.merged_into_id)
    return cluster


def _engine_key(db: Session) -> str:
    bind = db.get_bind()
    return bind.engine.url.render_as_string(hide_password=True)


@contextmanager
def _synced_index(db: Session) -> Iterator[TipIndex]:
    """This database's index, caught up with the log, held exclusively while in use."""
    key = _engine_key(db)
    with _indexes_lock:
        synced = _indexes.setdefault(key, _SyncedIndex())
    with synced.lock:
        if not _still_valid(db, synced):
            _rebuild(db, synced)
        _catch_up(db, synced)
        yield synced.index


def _still_valid(db: Session, synced: _SyncedIndex) -> bool:
    if not synced.built:
        return False
    if synced.last_log_id == 0:
        return len(synced.index) == 0
    row = db.execute(
        select(TipIndexLog.tip_id, TipIndexLog.cluster_id).where(TipIndexLog.id == synced.last_log_id)
    ).first()
    return row is not None and (row[0], row[1]) == synced.last_mark


def _rebuild(db: Session, synced: _SyncedIndex) -> None:
    rows = db.execute(
        select(Tip.id, Tip.cluster_id, Tip.text, Tip.url, Tip.image_phash)
        .where(Tip.cluster_id.is_not(None))
        .order_by(Tip.id)
    )
    synced.index.rebuild(
        StoredTip(tip_id, cluster_id or 0, text or None, url or None, phash or None)
        for tip_id, cluster_id, text, url, phash in rows
    )
    last = db.execute(
        select(TipIndexLog.id, TipIndexLog.tip_id, TipIndexLog.cluster_id)
        .order_by(TipIndexLog.id.desc())
        .limit(1)
    ).first()
    synced.last_log_id, synced.last_mark = (last[0], (last[1], last[2])) if last else (0, None)
    synced.built = True


def _catch_up(db: Session, synced: _SyncedIndex) -> None:
    rows = db.execute(
        select(TipIndexLog.id, TipIndexLog.tip_id, TipIndexLog.cluster_id)
        .where(TipIndexLog.id > synced.last_log_id)
        .order_by(TipIndexLog.id)
    ).all()
    if not rows:
        return
    index = synced.index
    unknown = {tip_id for _, tip_id, _ in rows if tip_id not in index}
    stored = {
        tip_id: (text, url, phash)
        for tip_id, text, url, phash in db.execute(
            select(Tip.id, Tip.text, Tip.url, Tip.image_phash).where(Tip.id.in_(unknown))
        )
    }
    for _, tip_id, cluster_id in rows:
        if tip_id in index:
            if index.cluster_of(tip_id) != cluster_id:
                index.reassign(tip_id, cluster_id)
        elif tip_id in stored:
            text_, url, phash = stored[tip_id]
            index.add(
                tip_id, text=text_ or None, url=url or None, image_phash=phash or None, cluster_id=cluster_id
            )
    log_id, tip_id, cluster_id = rows[-1]
    synced.last_log_id, synced.last_mark = log_id, (tip_id, cluster_id)
