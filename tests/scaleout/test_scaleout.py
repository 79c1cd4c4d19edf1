"""The scale-out topology as separate processes, as docs/operations.md deploys it.

PostgreSQL, Redis, one `lanxi scheduler` (a second one is refused), two `lanxi worker` Celery
processes, and the day's check-in dispatch run by `lanxi jobs run daily_checkin`, all with the
production entry points against a fresh database and a FakeWeChatServer answering each call after
20 ms. One worker is SIGKILLed mid-way: every resident still gets a prompt, none is lost, and the
prompts sent twice are at most the rows that worker held in flight when it died. The scheduler's
own outbox sweep (every 15 s) republishes the work; nothing in the test stands in for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench import seeding
from bench.common import write_config
from bot.db import make_engine
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState, Limits
from bot.jobs import JOBS
from bot.models import Base, OutboxMessage, OutboxStatus, Resident, WeChatIdentity
from bot.services import leases
from tests.conftest import create_pg_database, drop_pg_database, pg_unavailable_reason

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

REDIS = "redis://127.0.0.1:6379"
RESIDENTS = 1_200  # three chunks of the job: three delivery task chains from the start
# A claimed batch (25 rows) must finish well within the lease, or a slow batch is reclaimed and sent
# twice without any crash: 25 x 20 ms leaves a wide margin on a loaded machine.
LATENCY_MS = 20
LEASE_SECONDS = 5
APP_ID, APP_SECRET = "wxlanxiscaleout001", "scaleout-app-secret"
TEMPLATE_ID = "scaleout-checkin-template"
LANXI = [str(Path(sys.executable).parent / "lanxi")]


def redis_db() -> str | None:
    """An empty Redis database of the local server (the queue name is fixed: share none), else None."""
    try:
        for index in range(15, 0, -1):
            client = redis.Redis.from_url(f"{REDIS}/{index}", socket_connect_timeout=2)
            empty = client.dbsize() == 0
            client.close()
            if empty:
                return f"{REDIS}/{index}"
    except redis.RedisError:
        return None
    return None


@pytest.fixture
def broker() -> Iterator[str]:
    url = redis_db()
    if url is None:
        pytest.skip(f"scale-out test skipped: no empty database on the Redis server at {REDIS}")
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def database() -> Iterator[str]:
    if reason := pg_unavailable_reason():
        pytest.skip(f"scale-out test skipped: {reason}")
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def fake() -> Iterator[FakeWeChatServer]:
    state = FakeWeChatState(limits=Limits(template_daily=10**6))
    state.register_app(APP_ID, APP_SECRET)
    state.register_template(TEMPLATE_ID)
    with FakeWeChatServer(state) as server:
        yield server


class Topology:
    """The processes of one deployment, their logs, and a way to stop them all."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config, self.logs = config, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(
                [*LANXI, "--config", str(self.config), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_env(),
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LANXI_")}


@contextmanager
def topology(config: Path, logs: Path) -> Iterator[Topology]:
    running = Topology(config, logs)
    try:
        yield running
    finally:
        running.stop_all()


def counts(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return Counter({str(status): n for status, n in rows})


def in_flight_of(engine: Engine, pid: int) -> int:
    """Rows the worker with this pid had claimed and not finished (named host:pid:celery…)."""
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_by.like(f"%:{pid}:celery%"),
                )
            )
            or 0
        )


def wait_for(check: Callable[[], bool], seconds: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting: {what()}")
        time.sleep(0.2)


@pytest.mark.skipif(not any(s.id == "daily_checkin" for s in JOBS), reason="no daily_checkin job declared")
def test_two_workers_and_a_scheduler_deliver_a_day_when_one_worker_is_killed(
    database: str, broker: str, fake: FakeWeChatServer, tmp_path: Path
) -> None:
    engine = make_engine(database)
    Base.metadata.create_all(engine)
    seeding.insert_chunks(engine, Resident, seeding.resident_rows(RESIDENTS, seeding.stations(engine)))
    seeding.bind_everyone(engine, APP_ID, window_percent=20)
    for openid, window in seeding.openids(engine, APP_ID):
        if window:
            fake.state.user_interaction(openid)  # wrote within 48 h: the prompt goes as a chat message
        else:
            fake.state.add_follower(openid)
    fake.state.set_latency("*", LATENCY_MS)
    config = write_config(
        tmp_path / "config.toml",
        {
            "database": {"url": database},
            "wechat": {
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "checkin_template_id": TEMPLATE_ID,
                "api_base_url": fake.url,
                "open_base_url": fake.url,
            },
            "wecom": {"api_base_url": fake.url},
            "delivery": {
                "backend": "celery",
                "broker_url": broker,
                "concurrency": 4,
                "sending_lease_seconds": LEASE_SECONDS,
            },
        },
    )
    with topology(config, tmp_path) as deploy:
        deploy.start("scheduler", "scheduler")
        victim = deploy.start("worker-1", "worker")
        deploy.start("worker-2", "worker")
        job = deploy.start("job", "jobs", "run", "daily_checkin")
        wait_for(lambda: len(fake.state.delivered()) >= RESIDENTS // 4, 60, lambda: deploy.log("worker-1"))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        in_flight = in_flight_of(engine, victim.pid)
        delivered_at_kill = len(fake.state.delivered())

        wait_for(lambda: scheduler_leads(engine), 60, lambda: deploy.log("scheduler"))
        second = subprocess.run(
            [*LANXI, "--config", str(config), "scheduler", "--exit-if-running"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
        assert second.returncode == 3, second.stdout + second.stderr  # exactly one scheduler
        assert job.wait(60) == 0, deploy.log("job")
        wait_for(
            lambda: counts(engine)["sent"] == RESIDENTS,
            120,  # generous: on a loaded 2-core machine the sweep's republishing is slow, not wrong
            lambda: f"{counts(engine)}; survivor: {deploy.log('worker-2')}",
        )
        with engine.connect() as conn:
            bound = set(conn.scalars(select(WeChatIdentity.openid)))
    engine.dispose()

    assert delivered_at_kill < RESIDENTS, "the worker was killed after the day was already delivered"
    prompts = Counter(d.target for d in fake.state.delivered())
    assert set(prompts) == bound, "every bound resident received the day's prompt"
    duplicates = sum(n - 1 for n in prompts.values())
    assert duplicates <= in_flight, f"{duplicates} sent twice, {in_flight} were in flight at the kill"


def scheduler_leads(engine: Engine) -> bool:
    with Session(engine) as db:
        return leases.holder_of(db, "scheduler") is not None
