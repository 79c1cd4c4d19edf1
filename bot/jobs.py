"""The scheduler's declared jobs: stable ids, Asia/Shanghai times, one code path for all runs.

`lanxi scheduler` (or the in-process scheduler of `lanxi serve`) and `lanxi jobs run ID`
both call ``run_job``, which records a JobRun and calls the job's function. Every job is
idempotent for its run key (a day for daily jobs): running one twice sends nothing twice.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.clock import local_today, now_utc
from bot.config import Settings
from bot.models import JobRun, utcnow
from bot.runtime import Runtime

log = logging.getLogger(__name__)
JobFunction = Callable[[Runtime, datetime], dict[str, Any]]


@dataclass(frozen=True)
class JobSpec:
    id: str
    target: str  # "module:function", imported when the job runs
    description: str
    daily_at: Callable[[Settings], str] | None = None  # HH:MM local time, for daily jobs
    every_seconds: int | None = None  # for interval jobs

    def function(self) -> JobFunction:
        module, name = self.target.split(":")
        fn: JobFunction = getattr(importlib.import_module(module), name)
        return fn

    def run_key(self, settings: Settings, now: datetime) -> str:
        """Daily jobs run once per local day; interval jobs once per start minute (for the record)."""
        if self.daily_at is not None:
            return local_today(settings.tz, now).isoformat()
        return now.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")

    def due_time_today(self, settings: Settings, now: datetime) -> datetime | None:
        if self.daily_at is None:
            return None
        at = time.fromisoformat(self.daily_at(settings))
        return datetime.combine(local_today(settings.tz, now), at, tzinfo=settings.tz)


def _minutes_after(hhmm: str, minutes: int) -> str:
    moment = datetime.combine(datetime(2000, 1, 1), time.fromisoformat(hhmm)) + timedelta(minutes=minutes)
    return moment.strftime("%H:%M")


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "outbox_sweep",
        "bot.delivery.sweep:outbox_sweep",
        "Reclaim outbox rows of dead workers and wake delivery",
        every_seconds=15,
    ),
    JobSpec(
        "advisories_due",
        "bot.services.advisory_jobs:advisories_due",
        "Send scheduled advisories whose time has come",
        every_seconds=30,
    ),
    JobSpec(
        "tip_intake",
        "bot.tip_jobs:tip_intake",
        "Fetch tips' screenshots and voice notes from WeChat; cluster tips left for later",
        every_seconds=20,
    ),
    JobSpec(
        "daily_report",
        "bot.services.report_jobs:daily_report",
        "Draft the day's report (a submitted or approved report is left alone)",
        daily_at=lambda s: s.reports.time,
    ),
    JobSpec(
        "daily_checkin",
        "bot.checkin_jobs:daily_checkin",
        "Open the day's check-ins and prompt every resident",
        daily_at=lambda s: s.checkin.time,
    ),
    JobSpec(
        "checkin_reminder",
        "bot.checkin_jobs:checkin_reminder",
        "Remind residents who have not checked in yet",
        daily_at=lambda s: s.checkin.reminder_time,
    ),
    JobSpec(
        "purge_expired",
        "bot.retention_jobs:purge_expired",
        "Erase personal fields past [privacy] retention_days; aggregates stay",
        daily_at=lambda s: "03:30",
    ),
    JobSpec(
        "checkin_close_day",
        "bot.checkin_jobs:checkin_close_day",
        "Silent residents to the phone list; end finished monitoring",
        daily_at=lambda s: s.checkin.close_time,
    ),
)


def job(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


def run_job(rt: Runtime, job_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Run one job now, recording the run; the scheduler and `lanxi jobs run` both come here."""
    spec = job(job_id)
    now = now or now_utc()
    with rt.session() as db:
        run = JobRun(job_id=spec.id, run_key=spec.run_key(rt.settings, now), started_at=utcnow())
        db.add(run)
        db.flush()
        run_id = run.id
    try:
        summary = spec.function()(rt, now)
    except Exception as exc:
        _finish(rt, run_id, "failed", {"error": type(exc).__name__})
        raise
    _finish(rt, run_id, "done", summary)
    return summary


def _finish(rt: Runtime, run_id: int, status: str, summary: dict[str, Any]) -> None:
    with rt.session() as db:
        # One write, no read first: on SQLite a read snapshot made stale by another writer (the
        # scheduler's lease) cannot be upgraded and fails at once with "database is locked".
        db.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, summary=summary, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def completed_today(rt: Runtime, spec: JobSpec, now: datetime) -> bool:
    with rt.session() as db:
        return (
            db.scalar(
                select(JobRun.id).where(
                    JobRun.job_id == spec.id,
                    JobRun.run_key == spec.run_key(rt.settings, now),
                    JobRun.status == "done",
                )
            )
            is not None
        )
