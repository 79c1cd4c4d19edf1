"""The one scheduler: a database lease decides who leads, a second takes over when the first stops renewing,
`lanxi scheduler --exit-if-running` refuses to start beside a leader, jobs re-run for a day send nothing
twice, and a daily job missed by a restart is caught up by the new leader unless it completed."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot import jobs, scheduler
from bot.channels.base import Channel
from bot.clock import now_utc
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState
from bot.jobs import JobSpec, run_job
from bot.models import JobRun
from bot.runtime import Runtime
from bot.scheduler import SingleScheduler
from web.cli import cli

from .sample_jobs import GREETED
from .support import wait_until, write_config

SAMPLE = "tests.delivery.sample_jobs"
LEASE_TTL = timedelta(seconds=1.5)  # a loaded machine may take a few hundred milliseconds per transaction


@pytest.fixture
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "LEASE_TTL", LEASE_TTL)
    monkeypatch.setattr(scheduler, "RENEW_EVERY", 0.1)


def declare(monkeypatch: pytest.MonkeyPatch, *specs: JobSpec) -> None:
    """These jobs, and only these, for the scheduler and for run_job."""
    monkeypatch.setattr(jobs, "JOBS", specs)
    monkeypatch.setattr(scheduler, "JOBS", specs)


def earlier_today(settings: Any) -> str:
    """A local HH:MM that has passed today (midnight just after midnight)."""
    local = now_utc().astimezone(settings.tz)
    moment = max(local - timedelta(minutes=5), local.replace(hour=0, minute=0, second=0, microsecond=0))
    return moment.strftime("%H:%M")


def daily(job_id: str, function: str, at: str) -> JobSpec:
    return JobSpec(job_id, f"{SAMPLE}:{function}", f"test job {job_id}", daily_at=lambda _s: at)


def runs(rt: Runtime, job_id: str) -> list[JobRun]:
    with rt.session() as db:
        return list(db.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)))


@pytest.mark.usefixtures("short_lease")
def test_exactly_one_leads_and_another_takes_over_when_the_first_stops_renewing(rt: Runtime) -> None:
    first, second = SingleScheduler(rt, "host-a:101"), SingleScheduler(rt, "host-b:202")
    assert first.try_lead()
    assert not second.try_lead()
    assert first.try_lead()  # renewing
    assert second.current_holder() == "host-a:101"
    time.sleep(
        LEASE_TTL.total_seconds() + 0.1
    )  # the first stops renewing: dead, or cut off from the database
    assert second.try_lead()
    assert not first.try_lead()  # back again, it has lost the lease
    assert first.current_holder() == "host-b:202"


@contextmanager
def leading(rt: Runtime, holder: str) -> Iterator[SingleScheduler]:
    """A scheduler running in a thread (it leads, or waits for the lease) until the block ends."""
    single = SingleScheduler(rt, holder)
    thread = single.start_background()
    try:
        yield single
    finally:
        single.stop()
        thread.join(10)
        assert not thread.is_alive()


@pytest.mark.usefixtures("short_lease")
def test_a_leader_cut_off_from_the_database_is_replaced_and_steps_down(
    committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch)
    first = SingleScheduler(committing_rt, "host-a:101")
    first_thread = first.start_background()
    try:
        wait_until(lambda: first.current_holder() == "host-a:101", 10, "the first to lead")
        with leading(committing_rt, "host-b:202") as second:

            def unreachable() -> bool:
                raise ConnectionError("database unreachable")

            with pytest.MonkeyPatch.context() as cut_off:
                cut_off.setattr(first, "try_lead", unreachable)
                wait_until(lambda: second.current_holder() == "host-b:202", 10, "the second to take over")
            # The database answers the first again: it finds the lease gone and stops its jobs on its own.
            first_thread.join(5)
            assert not first_thread.is_alive()
        assert second.current_holder() is None  # released on stop
    finally:
        first.stop()
        first_thread.join(5)


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """`lanxi scheduler` installs SIGTERM/SIGINT handlers; put pytest's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.usefixtures("keep_signal_handlers")
# `lanxi` builds its own engine and leaves its pool to the process's exit: SQLite keeps that quiet.
@pytest.mark.parametrize("committing_rt", ["sqlite"], indirect=True)
def test_lanxi_scheduler_exit_if_running_exits_3_while_another_leads(
    committing_rt: Runtime, tmp_path: Path
) -> None:
    assert SingleScheduler(committing_rt, "other-host:4242").try_lead()
    config = write_config(tmp_path / "config.toml", committing_rt.settings.database.url, "http://127.0.0.1:9")
    result = CliRunner().invoke(cli, ["--config", str(config), "scheduler", "--exit-if-running"])
    assert result.exit_code == 3, result.output
    assert "another scheduler is running (other-host:4242)" in result.output


def test_a_job_run_twice_for_a_day_is_recorded_twice_and_sends_once(
    wrt: Runtime, channels: dict[str, Channel], state: FakeWeChatState, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch, daily("test_greet", "greet", "09:00"))
    state.add_follower(GREETED)
    summaries = [run_job(wrt, "test_greet"), run_job(wrt, "test_greet")]
    assert summaries == [{"enqueued": 1}, {"enqueued": 0}]
    recorded = runs(wrt, "test_greet")
    assert [r.status for r in recorded] == ["done", "done"]
    assert recorded[0].run_key == recorded[1].run_key
    drain(wrt, channels, RateGate())
    assert len(state.delivered("template", GREETED)) == 1


@pytest.mark.usefixtures("short_lease")
def test_a_new_leader_catches_up_a_missed_daily_job_not_a_completed_one_and_keeps_its_lease_meanwhile(
    committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = earlier_today(committing_rt.settings)
    # The missed job outlasts the lease: the leader must go on renewing while it runs.
    declare(monkeypatch, daily("test_completed", "nothing", at), daily("test_missed", "slow", at))
    run_job(committing_rt, "test_completed")  # the previous leader ran this one before it died
    with leading(committing_rt, "host-a:101") as first:
        wait_until(lambda: first.current_holder() == "host-a:101", 10, "the first to lead")
        with leading(committing_rt, "host-b:202"):  # waits, polling the lease, while the first catches up
            done = lambda: [r.status for r in runs(committing_rt, "test_missed")] == ["done"]  # noqa: E731
            wait_until(done, 10, "the missed job to be caught up")
            assert first.current_holder() == "host-a:101"
    assert len(runs(committing_rt, "test_missed")) == 1
    assert len(runs(committing_rt, "test_completed")) == 1
