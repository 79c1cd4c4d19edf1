"""Exactly one scheduler: APScheduler with the declared jobs, guarded by a database lease.

Several `lanxi scheduler` processes (or web workers) may start; only the holder of the
"scheduler" lease runs jobs, renewing it every few seconds. A second one waits and takes
over when the first stops renewing (it died). On taking over, a daily job whose time has
passed today without a completed run is run at once, so a restart around 09:00 neither
skips the day's check-in nor doubles it (the job itself is idempotent for the day).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import now_utc
from bot.db import begin_immediate
from bot.jobs import JOBS, JobSpec, completed_today, run_job
from bot.runtime import Runtime
from bot.services import leases

log = logging.getLogger(__name__)
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=30)
RENEW_EVERY = 10.0
MISFIRE_GRACE = 3600
# A daily job missed by a restart is run on take-over only this soon after its time.
CATCH_UP_WINDOW = timedelta(hours=3)


class SingleScheduler:
    def __init__(self, rt: Runtime, holder: str | None = None) -> None:
        self.rt = rt
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self._aps: BackgroundScheduler | None = None
        self._stop = threading.Event()

    def try_lead(self) -> bool:
        with self.rt.session() as db:
            begin_immediate(db)
            return leases.try_acquire(db, LEASE, self.holder, LEASE_TTL)

    def current_holder(self) -> str | None:
        with self.rt.session() as db:
            return leases.holder_of(db, LEASE)

    def run(self, *, wait: bool = True, on_waiting: object = None) -> None:
        """Lead (waiting for the lease if another scheduler holds it), until stop()."""
        while not self._stop.is_set():
            if self.try_lead():
                break
            if not wait:
                raise RuntimeError(f"another scheduler is running ({self.current_holder()})")
            if callable(on_waiting):
                on_waiting(self.current_holder())
            self._stop.wait(RENEW_EVERY)
        if self._stop.is_set():
            return
        self._start_jobs()
        while not self._stop.wait(RENEW_EVERY):
            try:
                still_leader = self.try_lead()
            except Exception:
                log.exception("scheduler could not renew its lease")
                continue
            if not still_leader:
                log.error("scheduler lost its lease; stopping jobs")
                self._stop_jobs()
                return
        self._stop_jobs()
        with self.rt.session() as db:
            leases.release(db, LEASE, self.holder)

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _start_jobs(self) -> None:
        settings = self.rt.settings
        aps = BackgroundScheduler(timezone=settings.tz, job_defaults={"coalesce": True, "max_instances": 1})
        for spec in JOBS:
            aps.add_job(
                self._run,
                trigger=_trigger(spec, self.rt),
                args=[spec.id],
                id=spec.id,
                name=spec.id,
                misfire_grace_time=MISFIRE_GRACE,
                replace_existing=True,
            )
        aps.start()
        self._aps = aps
        self._catch_up()
        log.info("scheduler %s leads; %d jobs", self.holder, len(JOBS))

    def _catch_up(self) -> None:
        now = now_utc()
        for spec in JOBS:
            due = spec.due_time_today(self.rt.settings, now)
            late = due is not None and timedelta(0) <= now - due <= CATCH_UP_WINDOW
            if late and not completed_today(self.rt, spec, now):
                log.info("catching up %s: its time today passed without a completed run", spec.id)
                # On the scheduler's pool, not in this thread, which must go on renewing the lease.
                assert self._aps is not None
                self._aps.add_job(
                    self._run, args=[spec.id], id=f"{spec.id}:catch-up", misfire_grace_time=MISFIRE_GRACE
                )

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.rt, job_id)
        except Exception:
            log.exception("job %s failed", job_id)

    def _stop_jobs(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None


def _trigger(spec: JobSpec, rt: Runtime) -> CronTrigger | IntervalTrigger:
    if spec.daily_at is not None:
        hour, minute = spec.daily_at(rt.settings).split(":")
        return CronTrigger(hour=int(hour), minute=int(minute), timezone=rt.settings.tz)
    assert spec.every_seconds is not None
    return IntervalTrigger(seconds=spec.every_seconds)
