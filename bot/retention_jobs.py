"""The purge_expired job (see bot.services.retention)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.runtime import Runtime
from bot.services import retention


def purge_expired(rt: Runtime, now: datetime) -> dict[str, Any]:
    with rt.writer() as db:
        return asdict(retention.purge_expired(db, rt.settings, now))
