"""Where a delivery thread's time goes: queued template prompts drained by N threads, profiled.

    .venv/bin/python -m bench.delivery_profile --messages 3000 --threads 8
    .venv/bin/python -m bench.delivery_profile --messages 1000 --threads 8 --profile wall
    .venv/bin/python -m bench.delivery_profile --messages 1000 --threads 8 --profile cpu

The rows are written straight into a fresh database; the local WeChat runs in a process of its own
(so its CPU is not this process's) and answers every call after ``--latency-ms``. Delivery is the
inline backend's ``InlineDelivery`` (what `lanxi worker` runs: N threads claiming and sending, an
outcome recorder writing the results), run until every row is sent. Printed: the delivered rate
against what the concurrency allows (threads / latency), this process's CPU per message, and with
``--profile`` the merged profile of every thread (wall clock, or CPU time per thread) by function.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import pstats
import sys
import threading
import time
from typing import Any

from bench.common import figure, machine, note, postgres_available, scratch_database
from bench.seeding import insert_chunks, outbox_row
from bot.config import settings_from_dict
from bot.models import Base, OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime

TEMPLATE_ID = "bench-template"
APPID, SECRET = "wxbenchdelivery0001", "bench-delivery-secret"


def openid(n: int) -> str:
    return f"oBenchDelivery{n:010d}"


def fake_process(messages: int, latency_ms: int, ready: Any, stop: Any) -> None:
    from bot.fake_wechat import FakeWeChatServer, FakeWeChatState, Limits

    state = FakeWeChatState(limits=Limits(template_daily=10**9))
    state.register_app(APPID, SECRET)
    state.register_template(TEMPLATE_ID)
    for n in range(messages):
        state.add_follower(openid(n))
    state.set_latency("*", latency_ms)
    with FakeWeChatServer(state) as server:
        ready.put(server.url)
        stop.wait()


def queue_rows(rt: Runtime, messages: int) -> None:
    now = utcnow()
    rows = (
        outbox_row(
            f"bench:{n}",
            openid(n),
            {"template_id": TEMPLATE_ID, "data": {"first": {"value": f"第 {n} 条"}}},
            now,
        )
        for n in range(messages)
    )
    insert_chunks(rt.engine, OutboxMessage, rows, size=1000)


def deliver_all(
    rt: Runtime, threads: int, messages: int, profile: str
) -> tuple[float, float, pstats.Stats | None]:
    """InlineDelivery until every row is sent; (wall seconds, process CPU seconds, merged profile)."""
    from bot.channels import build_channels
    from bot.delivery.inline import InlineDelivery
    from bot.delivery.rate import RateGate

    gate = RateGate(limits={"oa_template": "1000000/minute"})
    delivery = InlineDelivery(rt, build_channels(rt), gate, threads)
    profiles = profile_new_threads(profile) if profile else []
    wall, cpu = time.perf_counter(), time.process_time()
    delivery.start()
    while count_sent(rt) < messages:
        time.sleep(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    delivery.stop()
    stats = None
    if profiles:
        stats = pstats.Stats(profiles[0])
        for other in profiles[1:]:
            stats.add(other)
    return wall, cpu, stats


def profile_new_threads(clock: str) -> list[cProfile.Profile]:
    """Every thread started from now on runs under a cProfile of its own (wall or per-thread CPU time)."""
    profiles: list[cProfile.Profile] = []
    timer = time.thread_time if clock == "cpu" else time.perf_counter
    run = threading.Thread.run

    def profiled(thread: threading.Thread) -> None:
        profiler = cProfile.Profile(timer)
        profiles.append(profiler)
        profiler.runcall(run, thread)

    threading.Thread.run = profiled  # type: ignore[method-assign]
    return profiles


def run(database: str, messages: int, threads: int, latency_ms: int, profile: str, dump: str) -> None:
    print(machine())
    ctx = mp.get_context("spawn")
    ready: mp.Queue[str] = ctx.Queue()
    stop = ctx.Event()
    fake = ctx.Process(target=fake_process, args=(messages, latency_ms, ready, stop), daemon=True)
    fake.start()
    try:
        url = ready.get(timeout=120)
        with scratch_database(database) as db_url:
            settings = settings_from_dict(
                {
                    "database": {"url": db_url},
                    "wechat": {
                        "api_base_url": url,
                        "open_base_url": url,
                        "app_id": APPID,
                        "app_secret": SECRET,
                        "checkin_template_id": TEMPLATE_ID,
                    },
                    "delivery": {"concurrency": threads},
                }
            )
            rt = Runtime.from_settings(settings)
            Base.metadata.create_all(rt.engine)
            queue_rows(rt, messages)
            wall, cpu, stats = deliver_all(rt, threads, messages, profile)
            sent = count_sent(rt)
            rt.engine.dispose()
    finally:
        stop.set()
        fake.join(10)
    rate, allowed = sent / wall, threads * 1000 / latency_ms
    figure(
        f"drained_per_second_{database}",
        rate,
        "msg/s",
        reference="concurrency/latency",
        ref_value=allowed,
        target="ratio >= 0.9",
        met=rate >= 0.9 * allowed,
    )
    note(f"{sent:,} of {messages:,} sent in {wall:.1f} s by {threads} threads, {latency_ms} ms per call")
    note(f"this process's CPU: {1000 * cpu / max(sent, 1):.2f} ms per message ({cpu / wall:.0%} of a core)")
    note(f"per thread: {1000 * threads * wall / max(sent, 1):.1f} ms per message (wall)")
    if stats is not None and dump:
        stats.dump_stats(dump)
    if stats is not None:
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)


def count_sent(rt: Runtime) -> int:
    from sqlalchemy import func, select

    with rt.session() as db:
        query = select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
        return int(db.scalar(query) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--profile", choices=("", "wall", "cpu"), default="")
    parser.add_argument("--dump", default="", help="also write the merged profile to this file (pstats)")
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not postgres_available():
        print("PostgreSQL does not answer (set LANXI_BENCH_PG_URL) or use --database sqlite", file=sys.stderr)
        return 2
    run(args.database, args.messages, args.threads, args.latency_ms, args.profile, args.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())
