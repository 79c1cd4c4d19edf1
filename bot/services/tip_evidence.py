"""A cluster's evidence for a case file, as one zip archive.

Inside: ``cluster.json`` (the rumor, counts, verdict), ``tips.json`` (every tip's original words,
link, where and when seen, times, media with SHA-256), ``media/`` (the original files),
``reviews.json`` (the review history), ``leads.json`` (stations' work and outcomes),
``access_log.json`` (who viewed or exported the cluster, from the audit log) and
``manifest.json`` listing the SHA-256 and size of every other file. Reporters appear only by
their short keyed-hash label. Each export is audited with the archive's own SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import AuditEvent, Lead, StaffUser, Tip, TipCluster, TipMedia, TipReview
from bot.services import audit
from bot.services.audit import Actor

from .tip_media import extension
from .tip_queue import reporter_label
from .tip_review import status_label

README = """兰西县公安局 谣言线索证据包

cluster.json    线索组概况与核查结论
tips.json       每条举报的原始内容、链接、看到的地方和时间、提交时间，附件及其 SHA-256
media/          举报附带的原始图片、语音
reviews.json    审核记录（领取、状态变化、合并拆分、结论）
leads.json      转派出所的线索及办理结果
access_log.json 查看、导出本线索组的记录
manifest.json   以上每个文件的 SHA-256 与字节数

举报人身份不在本证据包内，只以编号区分同一举报人的多条举报。
"""


@dataclass(frozen=True)
class Archive:
    filename: str
    content: bytes
    sha256: str


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _cluster_ids(db: Session, cluster: TipCluster) -> list[int]:
    """The cluster and every cluster merged into it (their history is part of its record)."""
    ids, frontier = [cluster.id], [cluster.id]
    while frontier:
        frontier = list(db.scalars(select(TipCluster.id).where(TipCluster.merged_into_id.in_(frontier))))
        ids.extend(i for i in frontier if i not in ids)
    return ids


def _names(db: Session) -> dict[int, str]:
    return {
        uid: name or username
        for uid, name, username in db.execute(
            select(StaffUser.id, StaffUser.display_name, StaffUser.username)
        )
    }


def _tips_and_media(
    db: Session, settings: Settings, cluster: TipCluster
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    tips = list(db.scalars(select(Tip).where(Tip.cluster_id == cluster.id).order_by(Tip.created_at, Tip.id)))
    files: dict[str, bytes] = {}
    rows = []
    for tip in tips:
        media_rows = []
        for n, media in enumerate(
            db.scalars(select(TipMedia).where(TipMedia.tip_id == tip.id).order_by(TipMedia.id)), 1
        ):
            path = f"media/{tip.ticket}-{n}.{extension(media.content_type)}"
            files[path] = media.content or b""
            media_rows.append(
                {
                    "file": path,
                    "sha256": media.sha256,
                    "size": media.size,
                    "content_type": media.content_type,
                    "kind": media.kind,
                    "received_at": _iso(media.created_at),
                }
            )
        rows.append(
            {
                "ticket": tip.ticket,
                "channel": str(tip.channel),
                "kind": tip.kind,
                "reporter": reporter_label(tip),
                "text": tip.text,
                "url": tip.url,
                "normalized_url": tip.normalized_url,
                "seen_where": tip.seen_where,
                "seen_when": tip.seen_when,
                "submitted_at": _iso(tip.created_at),
                "submitted_at_local": tip.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S"),
                "media": media_rows,
                "media_fetch": {"state": tip.media_state, "error": tip.media_error}
                if tip.media_state
                else None,
            }
        )
    return rows, files


def _reviews(db: Session, ids: Sequence[int], names: dict[int, str]) -> list[dict[str, Any]]:
    reviews = db.scalars(
        select(TipReview).where(TipReview.cluster_id.in_(ids)).order_by(TipReview.at, TipReview.id)
    )
    return [
        {
            "cluster_id": r.cluster_id,
            "at": _iso(r.at),
            "staff": names.get(r.staff_id, str(r.staff_id)),
            "action": r.action,
            "from_status": status_label(r.from_status),
            "to_status": status_label(r.to_status),
            "reason": r.reason,
            "detail": r.detail,
        }
        for r in reviews
    ]


def _access_log(db: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "tip_cluster", AuditEvent.record_id.in_([str(i) for i in ids]))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        {"at": _iso(e.at), "who": e.actor_label, "action": e.action, "cluster_id": e.record_id, "ip": e.ip}
        for e in events
    ]


def _leads(db: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    leads = db.scalars(select(Lead).where(Lead.cluster_id.in_(ids)).order_by(Lead.id))
    return [
        {
            "lead_id": lead.id,
            "station": lead.station.name,
            "title": lead.title,
            "due_date": lead.due_date.isoformat() if lead.due_date else None,
            "status": str(lead.status),
            "outcome": lead.outcome,
            "outcome_note": lead.outcome_note,
            "closed_at": _iso(lead.closed_at),
        }
        for lead in leads
    ]


def _cluster(cluster: TipCluster, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "summary": cluster.summary,
        "status": status_label(cluster.status),
        "reason": cluster.reason,
        "debunk_text": cluster.debunk_text,
        "tip_count": cluster.tip_count,
        "reporter_count": cluster.reporter_count,
        "seen_places": cluster.seen_places,
        "first_seen": _iso(cluster.first_seen),
        "last_seen": _iso(cluster.last_seen),
        "decided_at": _iso(cluster.decided_at),
        "decided_by": names.get(cluster.decided_by_id or 0),
    }


def _zip(files: dict[str, bytes], at: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = at.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def export(db: Session, settings: Settings, actor: Actor, cluster: TipCluster, *, now: datetime) -> Archive:
    """Build the archive and audit the export (with the archive's SHA-256)."""
    ids = _cluster_ids(db, cluster)
    names = _names(db)
    tips, media = _tips_and_media(db, settings, cluster)
    files: dict[str, bytes] = {
        "README.txt": README.encode("utf-8"),
        "cluster.json": _json(_cluster(cluster, names)),
        "tips.json": _json(tips),
        "reviews.json": _json(_reviews(db, ids, names)),
        "leads.json": _json(_leads(db, ids)),
        "access_log.json": _json(_access_log(db, ids)),
        **media,
    }
    manifest = {
        "cluster_id": cluster.id,
        "generated_at": _iso(now),
        "generated_by": actor.label,
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in files.items()
        ],
    }
    files["manifest.json"] = _json(manifest)
    local = now.astimezone(settings.tz)
    content = _zip(files, local)
    digest = hashlib.sha256(content).hexdigest()
    audit.record(
        db,
        actor,
        "tips.export",
        record_type="tip_cluster",
        record_id=cluster.id,
        sha256=digest,
        files=len(files),
    )
    return Archive(f"tip-cluster-{cluster.id}-{local:%Y%m%d%H%M%S}.zip", content, digest)
