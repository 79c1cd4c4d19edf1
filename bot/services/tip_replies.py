"""Telling reporters the verdict on what they reported, through the outbox.

One message per reporter per cluster decision, naming all their tickets in it, keyed
``tip:<id of their first tip>:verdict`` (``…:verdict:<round>`` after a corrected decision), so a
decision taken twice, or a retry, never messages anyone twice. Inside the 48-hour window it is a
customer-service text carrying a template-message fallback (the window may close before delivery);
outside it, the template message directly. Form reporters read the same verdict on their status
page, reached by the link the form gave them.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy
from bot.clock import local_today
from bot.config import Settings
from bot.flows import messages
from bot.flows.model import Json, Reply
from bot.models import ClusterStatus, Tip, TipCluster, WeChatIdentity
from bot.services import identities, outbox

DECIDED = frozenset(
    {ClusterStatus.RUMOR, ClusterStatus.TRUE, ClusterStatus.UNVERIFIABLE, ClusterStatus.DISMISSED}
)
STATUS_TOKEN_CHARS = 24


def status_token(ticket: str) -> str:
    """The secret half of a tip's public status link: a keyed hash of the ticket, never stored."""
    return privacy.vault().blind_index(ticket, kind="tip-status")[:STATUS_TOKEN_CHARS]


def token_matches(ticket: str, token: str) -> bool:
    return hmac.compare_digest(status_token(ticket), token)


def status_url(settings: Settings, ticket: str) -> str:
    return f"{settings.web.public_base_url.rstrip('/')}/report/status/{ticket}/{status_token(ticket)}"


def verdict_key(tip_id: int, decision_round: int) -> str:
    suffix = "" if decision_round <= 1 else f":{decision_round}"
    return f"tip:{tip_id}:verdict{suffix}"


@cache
def _environment() -> SandboxedEnvironment:
    return messages.make_environment()


def verdict_text(settings: Settings, cluster: TipCluster, tickets: Sequence[str]) -> str:
    listed: list[Json] = list(tickets)
    params: dict[str, Json] = {"tickets": listed, "status": str(cluster.status)}
    params["debunk"] = cluster.debunk_text
    return messages.render(Reply("tips/verdict", params), {"hotline": settings.advisories.hotline})


def verdict_card(settings: Settings, cluster: TipCluster, ticket: str, now: datetime) -> dict[str, Any]:
    """The template message: wording from templates/messages/tips/verdict_card.txt."""
    module = _environment().get_template("tips/verdict_card.txt").make_module({"status": str(cluster.status)})
    card = vars(module)  # the template's exported {% set %} values
    day = local_today(settings.tz, now)
    return {
        "template_id": settings.tips.verdict_template_id,
        "url": status_url(settings, ticket),
        "data": {
            "first": {"value": str(card["first"])},
            "keyword1": {"value": ticket},
            "keyword2": {"value": str(card["verdict"]).strip()},
            "keyword3": {"value": f"{day.year}年{day.month}月{day.day}日"},
            "remark": {"value": str(card["remark"])},
        },
    }


def reply_to_reporters(
    db: Session, settings: Settings, cluster: TipCluster, now: datetime, tips: Sequence[Tip] | None = None
) -> int:
    """Queue the verdict for each WeChat reporter of ``tips`` (default: the whole cluster).

    Returns how many new messages were queued (0 when they were all queued before)."""
    if cluster.status not in DECIDED:
        return 0
    if tips is None:
        tips = list(db.scalars(select(Tip).where(Tip.cluster_id == cluster.id).order_by(Tip.id)))
    by_reporter: dict[int, list[Tip]] = defaultdict(list)
    for tip in tips:
        if tip.reporter_identity_id is not None:
            by_reporter[tip.reporter_identity_id].append(tip)
    queued = 0
    for identity_id, own in by_reporter.items():
        identity = db.get(WeChatIdentity, identity_id)
        if identity is not None and identity.subscribed:
            queued += _queue(db, settings, cluster, identity, sorted(own, key=lambda t: t.id), now)
    return queued


def _queue(
    db: Session,
    settings: Settings,
    cluster: TipCluster,
    identity: WeChatIdentity,
    tips: list[Tip],
    now: datetime,
) -> int:
    tickets = [tip.ticket for tip in tips]
    card = verdict_card(settings, cluster, tickets[0], now)
    if identities.window_open(identity, now):
        channel = "oa_custom"
        text = verdict_text(settings, cluster, tickets)
        payload: dict[str, Any] = {
            "msgtype": "text",
            "text": {"content": text},
            "fallback": {"channel": "oa_template", "payload": card},
        }
    else:
        channel, payload = "oa_template", card
    queued = outbox.enqueue(
        db,
        key=verdict_key(tips[0].id, cluster.decision_round),
        channel=channel,
        recipient=identity.openid,
        payload=payload,
    )
    if queued.created and channel == "oa_custom":
        identities.note_window_send(identity)
    return int(queued.created)
