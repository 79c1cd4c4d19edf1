"""Intake of rumor tips from the bot and the public form: tickets, limits, media, placement.

A tip gets a ticket ``T<yyyymmdd>-<nnnn>`` numbered per local day by an atomic database
counter (unique under any concurrency), then joins the cluster of its near-duplicates
(``tip_placement``). WeChat media is not fetched here: the callback must answer within
5 seconds, so the tip records the media id and the ``tip_media`` job fetches it; a screenshot
without words is placed once its picture (and perceptual hash) is in. Reporters are known to
limits and blocking only by a keyed hash; the reporter's WeChat identity is kept for the reply
and for 查询, and never leaves the cyber-police pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import privacy
from bot.clock import local_datetime, local_today
from bot.config import Settings
from bot.models import Tip, TipChannel, TipCluster, TipFormHit, WeChatIdentity

from . import tip_media, tip_placement, tip_replies
from .tip_text import extract_urls, normalize_url

TICKET_RE = re.compile(r"T\d{8}-\d{4,6}")
MAX_TEXT = 4000
MAX_URL = 1000
MAX_WHERE = 200
MAX_WHEN = 100
MAX_CONTACT = 100
IMAGES: frozenset[tip_media.MediaKind] = frozenset({"image"})
MEDIA_KINDS = ("image", "voice")

Refusal = Literal["blocked", "limit"]


class TipRefused(Exception):
    """This reporter may not file a tip now (blocked, or today's limit reached)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason


@dataclass(frozen=True)
class NewTip:
    channel: TipChannel
    reporter_hash: str
    text: str = ""
    url: str = ""
    kind: str = "text"  # text | link | image | voice
    seen_where: str = ""
    seen_when: str = ""
    reporter_identity_id: int | None = None
    contact: str = ""
    media_ref: str = ""  # a WeChat media id, fetched after the callback by the tip_media job
    upload: bytes | None = None  # a picture sent with the public form, checked and stored at once


def reporter_hash_of_openid(openid: str) -> str:
    return privacy.vault().blind_index(openid, kind="tip-reporter:wechat")


def reporter_hash_of_client(address: str) -> str:
    """The form's reporter key, and its rate-limit key: a keyed hash, never the address itself."""
    return privacy.vault().blind_index(address or "unknown", kind="tip-reporter:form")


def _day_start(settings: Settings, now: datetime) -> datetime:
    return local_datetime(local_today(settings.tz, now), time(0, 0), settings.tz)


def refusal(
    db: Session,
    settings: Settings,
    *,
    reporter_hash: str,
    now: datetime,
    identity: WeChatIdentity | None = None,
) -> Refusal | None:
    """Why this reporter may not file a tip now, or None."""
    if identity is not None and identity.tips_blocked:
        return "blocked"
    filed = db.scalar(
        select(func.count(Tip.id)).where(
            Tip.reporter_hash == reporter_hash, Tip.created_at >= _day_start(settings, now)
        )
    )
    return "limit" if (filed or 0) >= settings.tips.per_reporter_daily_limit else None


def allocate_ticket(db: Session, settings: Settings, now: datetime) -> str:
    day = local_today(settings.tz, now).strftime("%Y%m%d")
    return f"T{day}-{tip_placement.next_counter(db, f'ticket:{day}'):04d}"


def _link(new: NewTip) -> str:
    url = new.url.strip()
    if not url and new.text:
        url = next(iter(extract_urls(new.text)), "")
    return url[:MAX_URL]


def submit(
    db: Session,
    settings: Settings,
    new: NewTip,
    *,
    now: datetime,
    identity: WeChatIdentity | None = None,
    in_a_hurry: bool = False,
) -> Tip:
    """File a tip (TipRefused if the reporter may not; MediaRejected for a bad upload).

    ``in_a_hurry`` (a WeChat callback) leaves clustering to the tip_intake job when this process's
    index is cold and large, so the callback never waits for it to be built."""
    tip_placement.placement_lock(db)  # first: the intake's reads and writes then see one order
    reason = refusal(db, settings, reporter_hash=new.reporter_hash, now=now, identity=identity)
    if reason is not None:
        raise TipRefused(reason)
    url = _link(new)
    tip = Tip(
        ticket=allocate_ticket(db, settings, now),
        channel=new.channel,
        kind=new.kind if new.kind in ("text", "link", "image", "voice") else "text",
        reporter_identity_id=new.reporter_identity_id,
        reporter_hash=new.reporter_hash,
        reporter_contact=new.contact.strip()[:MAX_CONTACT] or None,
        text=new.text.strip()[:MAX_TEXT],
        url=url,
        normalized_url=normalize_url(url)[:MAX_URL] if url else "",
        seen_where=new.seen_where.strip()[:MAX_WHERE],
        seen_when=new.seen_when.strip()[:MAX_WHEN],
        created_at=now,
    )
    db.add(tip)
    db.flush()
    if new.upload:
        tip_media.attach(db, tip, new.upload, settings.tips.max_media_bytes, IMAGES)
    if new.media_ref and tip.kind in MEDIA_KINDS:
        tip.media_ref, tip.media_state, tip.media_next_at = new.media_ref[:256], "pending", now
    if not awaits_media(tip) and not (in_a_hurry and not tip_placement.quick_to_place(db)):
        place(db, settings, tip, now)
    return tip


def awaits_media(tip: Tip) -> bool:
    """A screenshot with no words or link is placed by its picture, once fetched."""
    return tip.media_state == "pending" and tip.kind == "image" and not tip.text and not tip.url


def place(db: Session, settings: Settings, tip: Tip, now: datetime) -> TipCluster:
    """Cluster the tip; joining a cluster already decided tells its reporter the verdict at once."""
    placed = tip_placement.place(db, tip)
    if placed.cluster.status in tip_replies.DECIDED:
        tip_replies.reply_to_reporters(db, settings, placed.cluster, now, tips=[tip])
    return placed.cluster


def place_backlog(db: Session, settings: Settings, now: datetime, limit: int = 200) -> int:
    """Cluster tips left unplaced by a hurried callback (not those still waiting for a picture)."""
    waiting = list(
        db.scalars(
            select(Tip.id)
            .where(Tip.cluster_id.is_(None), Tip.media_state != "pending", Tip.purged_at.is_(None))
            .order_by(Tip.id)
            .limit(limit)
        )
    )
    placed = 0
    for tip_id in waiting:
        tip_placement.placement_lock(db)
        tip = db.get(Tip, tip_id)
        if tip is not None and tip.cluster_id is None:
            place(db, settings, tip, now)
            placed += 1
    return placed


# --- media fetched after the callback ------------------------------------------------------------

MEDIA_MAX_ATTEMPTS = 5
MEDIA_RETRY_BASE = timedelta(minutes=1)


@dataclass(frozen=True)
class MediaDue:
    tip_id: int
    media_ref: str
    kind: str


def media_due(db: Session, now: datetime, limit: int = 20) -> list[MediaDue]:
    """Tips whose WeChat media is waiting to be fetched, oldest first."""
    rows = db.execute(
        select(Tip.id, Tip.media_ref, Tip.kind)
        .where(Tip.media_state == "pending", Tip.media_next_at <= now)
        .order_by(Tip.id)
        .limit(limit)
    )
    return [MediaDue(tip_id, ref, kind) for tip_id, ref, kind in rows]


def _pending(db: Session, tip_id: int) -> Tip | None:
    tip_placement.placement_lock(db)
    tip = db.get(Tip, tip_id)
    return tip if tip is not None and tip.media_state == "pending" else None


def media_fetched(db: Session, settings: Settings, tip_id: int, data: bytes, now: datetime) -> bool:
    """Store what was fetched (if it is the kind of file the tip said); True when stored."""
    tip = _pending(db, tip_id)
    if tip is None:
        return False  # another run got there first
    allowed: frozenset[tip_media.MediaKind] = frozenset({"voice"}) if tip.kind == "voice" else IMAGES
    try:
        tip_media.attach(db, tip, data, settings.tips.max_media_bytes, allowed)
    except tip_media.MediaRejected as exc:
        tip.media_state, tip.media_error = "failed", str(exc)[:255]
    else:
        tip.media_state, tip.media_error = "done", ""
    tip.media_attempts += 1
    _place_if_waiting(db, settings, tip, now)
    return tip.media_state == "done"


def media_failed(
    db: Session, settings: Settings, tip_id: int, error: str, *, transient: bool, now: datetime
) -> None:
    """A failed fetch: retried with backoff while transient, else given up (the tip is still placed)."""
    tip = _pending(db, tip_id)
    if tip is None:
        return
    tip.media_attempts += 1
    tip.media_error = error[:255]
    if transient and tip.media_attempts < MEDIA_MAX_ATTEMPTS:
        tip.media_next_at = now + MEDIA_RETRY_BASE * 2 ** (tip.media_attempts - 1)
        return
    tip.media_state = "failed"
    _place_if_waiting(db, settings, tip, now)


def _place_if_waiting(db: Session, settings: Settings, tip: Tip, now: datetime) -> None:
    if tip.cluster_id is None:
        place(db, settings, tip, now)
    elif tip.cluster is not None:
        tip_placement.refresh_counters(db, tip.cluster)  # the media count changed


# --- the reporter's own view -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReporterView:
    """What a reporter may know about their own tip: never the reviewers, reasons or other tips."""

    ticket: str
    submitted: str  # "2月15日"
    status: str  # a ClusterStatus value ("pending" while unplaced)
    debunk: str

    def as_params(self) -> dict[str, str]:
        return {
            "ticket": self.ticket,
            "submitted": self.submitted,
            "status": self.status,
            "debunk": self.debunk,
        }


def reporter_view(settings: Settings, tip: Tip) -> ReporterView:
    cluster = tip.cluster
    status = str(cluster.status) if cluster is not None else "pending"
    debunk = cluster.debunk_text if cluster is not None and status == "rumor" else ""
    day = tip.created_at.astimezone(settings.tz)
    return ReporterView(tip.ticket, f"{day.month}月{day.day}日", status, debunk)


def find_own(db: Session, identity_id: int, ticket: str) -> Tip | None:
    """The tip with this ticket if this identity filed it; None for others' tips and for no tip alike."""
    return db.scalar(select(Tip).where(Tip.ticket == ticket.upper(), Tip.reporter_identity_id == identity_id))


def recent_own(db: Session, identity_id: int, limit: int = 5) -> Sequence[Tip]:
    return db.scalars(
        select(Tip).where(Tip.reporter_identity_id == identity_id).order_by(Tip.id.desc()).limit(limit)
    ).all()


def find_by_status_link(db: Session, ticket: str, token: str) -> Tip | None:
    """The tip behind a status link; None when the token does not belong to the ticket."""
    if not TICKET_RE.fullmatch(ticket) or not tip_replies.token_matches(ticket, token):
        return None
    return db.scalar(select(Tip).where(Tip.ticket == ticket))


# --- the public form's rate limit ------------------------------------------------------------------


def form_rate_limited(db: Session, settings: Settings, client_hash: str, now: datetime) -> bool:
    """True when this client reached ``[tips] form_hourly_limit`` submissions in the last hour."""
    recent = db.scalar(
        select(func.count(TipFormHit.id)).where(
            TipFormHit.client_hash == client_hash, TipFormHit.at > now - timedelta(hours=1)
        )
    )
    return (recent or 0) >= settings.tips.form_hourly_limit


def note_form_hit(db: Session, client_hash: str, now: datetime) -> None:
    """Count a submission (accepted or caught as spam) against the client's hourly budget."""
    db.add(TipFormHit(client_hash=client_hash, at=now))


def purge_form_hits(db: Session, now: datetime) -> int:
    """Forget form submissions older than a day (they only ever count for an hour)."""
    result = db.execute(delete(TipFormHit).where(TipFormHit.at < now - timedelta(days=1)))
    return int(getattr(result, "rowcount", 0) or 0)


# --- retention -------------------------------------------------------------------------------------


def purge_reporters(db: Session, settings: Settings, now: datetime) -> int:
    """Erase who reported (contact, WeChat link) from tips decided over ``[privacy] retention_days`` ago.

    For the retention job: the rumor's words, media and verdict stay as the case record; the keyed
    reporter hash stays so the cluster's reporter count is still right. Returns how many tips changed.
    """
    cutoff = now - timedelta(days=settings.privacy.retention_days)
    decided = select(TipCluster.id).where(
        TipCluster.status.in_(tip_replies.DECIDED), TipCluster.decided_at < cutoff
    )
    old = db.scalars(select(Tip).where(Tip.cluster_id.in_(decided), Tip.purged_at.is_(None))).all()
    for tip in old:
        tip.reporter_contact, tip.reporter_identity_id, tip.purged_at = None, None, now
    return len(old)
