"""The tip_intake job: what a WeChat callback leaves for later, done within seconds of it.

Fetches tips' screenshots and voice notes from WeChat (media/get) after the callback answered,
then clusters tips that wait: a screenshot once its picture is in, and tips a callback left
unplaced because this process's index was cold. Downloads happen outside any transaction (no
lock held while WeChat answers); each result is stored in its own short transaction, which
re-checks that the tip still waits for it, so two runs at once store a file once. The same job
forgets public-form hits older than a day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.channels.base import DeliveryError
from bot.channels.official_account import OfficialAccountApi
from bot.channels.tokens import TokenStore
from bot.runtime import Runtime
from bot.services import tips

BATCH = 20


def tip_intake(rt: Runtime, now: datetime) -> dict[str, Any]:
    with rt.writer() as db:
        due = tips.media_due(db, now, limit=BATCH)
        purged = tips.purge_form_hits(db, now)
    stored = failed = 0
    if due:
        store = TokenStore(rt)
        try:
            api = OfficialAccountApi(rt, store)
            for item in due:
                if _fetch_one(rt, api, item, now):
                    stored += 1
                else:
                    failed += 1
        finally:
            store.close()
    with rt.session() as db:
        placed = tips.place_backlog(db, rt.settings, now)
    if due or placed:
        rt.notify_outbox()  # a tip placed into a decided cluster has its verdict queued
    return {
        "media_due": len(due),
        "stored": stored,
        "failed": failed,
        "placed": placed,
        "form_hits_purged": purged,
    }


def _fetch_one(rt: Runtime, api: OfficialAccountApi, item: tips.MediaDue, now: datetime) -> bool:
    try:
        data, _declared_type = api.download_media(item.media_ref, rt.settings.tips.max_media_bytes)
    except DeliveryError as exc:
        with rt.session() as db:
            tips.media_failed(
                db, rt.settings, item.tip_id, exc.explanation_zh, transient=exc.transient, now=now
            )
        return False
    with rt.session() as db:
        return tips.media_fetched(db, rt.settings, item.tip_id, data, now)
