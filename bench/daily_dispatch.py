"""Daily dispatch: one day's check-in prompts enqueued, then delivered to the local WeChat.

    .venv/bin/python -m bench.daily_dispatch --residents 13000
    .venv/bin/python -m bench.daily_dispatch --residents 1000000 --delivery-seconds 60

1. Residents (all away, all bound and following; ``--window-percent`` wrote within 48 h) are
   bulk-inserted into a fresh database.
2. Reference: the same number of outbox rows written by bare Core executemany, then removed.
3. Enqueue: the real ``daily_checkin`` job (``bot.jobs.run_job``) in a fresh process, timed, with
   its peak RSS. ``--synthetic`` (or a tree without that job) enqueues template prompts through
   ``bot.services.outbox.enqueue`` in chunks instead.
4. Delivery: ``--workers`` fresh processes, each ``--concurrency`` delivery threads (the inline
   backend's InlineDelivery; their rate limits shared in Redis when more than one), against a
   FakeWeChatServer answering every call after ``--latency-ms``. The delivered rate is measured
   in steady state for at most ``--delivery-seconds``, after ``--warmup`` seconds (the moving-window
   limits let a first minute's budget out at once), and compared with the lower of what the limits
   allow for this mix of channels and concurrency / latency. A time-boxed run extrapolates the
   whole day from that rate and says so. ``--enqueue-seconds`` time-boxes the enqueue likewise.
   When concurrency binds, the rate is also compared with a reference measured just before:
   as many bare threads making the same template calls to the same stand-in for ``--bare-seconds``,
   without the outbox (what the stand-in and the HTTP client themselves allow).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select, text

from bench import seeding
from bench.common import (
    figure,
    machine,
    note,
    peak_rss_mb,
    postgres_available,
    scratch_database,
    write_config,
)
from bot.config import load_settings
from bot.db import make_engine
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState, Limits
from bot.models import Base, OutboxMessage, OutboxStatus, Resident, WeChatIdentity, utcnow

ENQUEUE_TARGET_SECONDS_PER_MILLION = 120
MEMORY_TARGET_MB = 300


@dataclass(frozen=True)
class Options:
    residents: int
    database: str
    window_percent: int
    rate_limit: int  # per minute, for each Official Account channel
    workers: int
    concurrency: int
    latency_ms: int
    delivery_seconds: int
    enqueue_seconds: int
    warmup: int
    synthetic: bool
    bare_seconds: float


# -- enqueue (a fresh process, so its peak memory is its own) -----------------------------------------
def enqueue_process(config: str, synthetic: bool, results: mp.Queue[dict[str, Any]]) -> None:
    from bot.jobs import JOBS, run_job
    from bot.runtime import Runtime

    rt = Runtime.from_settings(load_settings(config))
    use_job = not synthetic and any(spec.id == "daily_checkin" for spec in JOBS)
    results.put({"baseline_mb": peak_rss_mb(), "job": use_job})
    started = time.perf_counter()
    summary = run_job(rt, "daily_checkin") if use_job else synthetic_enqueue(rt)
    seconds = time.perf_counter() - started
    results.put({"seconds": seconds, "summary": summary, "peak_mb": peak_rss_mb()})


def synthetic_enqueue(rt: Any) -> dict[str, Any]:
    """The outbox path alone: one template prompt per bound resident, keyset chunks of 500."""
    from bot.services import outbox

    after, queued = 0, 0
    day = utcnow().date().isoformat()
    while True:
        with rt.session() as db:
            rows = db.execute(
                select(Resident.id, WeChatIdentity.openid)
                .join(WeChatIdentity, WeChatIdentity.resident_id == Resident.id)
                .where(Resident.id > after)
                .order_by(Resident.id)
                .limit(500)
            ).all()
            for resident_id, openid in rows:
                outbox.enqueue(
                    db,
                    key=f"checkin:{resident_id}:{day}:prompt",
                    channel="oa_template",
                    recipient=openid,
                    payload=template_payload(rt.settings.wechat.checkin_template_id),
                )
            queued += len(rows)
        if not rows:
            return {"synthetic": True, "oa_template": queued}
        after = rows[-1][0]


def template_payload(template_id: str) -> dict[str, Any]:
    return {
        "template_id": template_id,
        "url": "https://example.invalid/h5/checkin",
        "data": {"first": {"value": "您好，请报平安"}, "keyword1": {"value": "居民"}},
    }


# -- delivery workers (fresh processes) ---------------------------------------------------------------
def delivery_process(
    config: str, storage: str, limit: str, threads: int, stop: Any, results: mp.Queue[dict[str, Any]]
) -> None:
    from bot.channels import build_channels
    from bot.delivery.inline import InlineDelivery
    from bot.delivery.rate import RateGate
    from bot.runtime import Runtime

    rt = Runtime.from_settings(load_settings(config))
    baseline = peak_rss_mb()
    gate = RateGate(storage, {"oa_template": limit, "oa_custom": limit})
    delivery = InlineDelivery(rt, build_channels(rt), gate, threads)
    delivery.start()
    stop.wait()
    delivery.stop()
    results.put({"peak_mb": peak_rss_mb(), "baseline_mb": baseline})


def bare_send_process(
    config: str, threads: int, seconds: float, recipients: list[str], results: mp.Queue[dict[str, Any]]
) -> None:
    """The measured reference when concurrency binds: as many threads making the same template calls
    through the same channel and HTTP client to the same stand-in, without the outbox (no database
    but the one access-token read)."""
    from bot.channels import build_channels
    from bot.runtime import Runtime

    rt = Runtime.from_settings(load_settings(config))
    channel = build_channels(rt)["oa_template"]
    payload = template_payload(rt.settings.wechat.checkin_template_id)
    channel.send(recipients[0], payload)  # the access token, fetched once before the clock starts
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        while time.monotonic() < deadline:
            channel.send(recipients[(index + threads * counts[index]) % len(recipients)], payload)
            counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put({"rate": sum(counts) / (time.monotonic() - started)})


def bare_http_rate(engine: Engine, config: Path, opts: Options, account: str) -> float:
    """Template calls per second by ``--workers`` x ``--concurrency`` bare threads."""
    recipients = [
        openid for openid, window in itertools.islice(seeding.openids(engine, account), 2000) if not window
    ]
    ctx = mp.get_context("spawn")
    results: mp.Queue[dict[str, Any]] = ctx.Queue()
    procs = [
        ctx.Process(
            target=bare_send_process,
            args=(str(config), opts.concurrency, opts.bare_seconds, recipients, results),
        )
        for _ in range(opts.workers)
    ]
    for proc in procs:
        proc.start()
    rate = sum(results.get(timeout=120)["rate"] for _ in procs)
    for proc in procs:
        proc.join(30)
    return rate


# -- the orchestration ----------------------------------------------------------------------------------
def seed(engine: Engine, residents: int, account: str, window_percent: int) -> float:
    started = time.perf_counter()
    pairs = seeding.stations(engine)
    seeding.insert_chunks(engine, Resident, seeding.resident_rows(residents, pairs))
    seeding.bind_everyone(engine, account, window_percent)
    settle(engine)
    return time.perf_counter() - started


def settle(engine: Engine) -> None:
    """A registry is not bulk-loaded minutes before 09:00: on PostgreSQL vacuum and analyze now, so
    autovacuum does not compete with the measured job and the planner has statistics. (SQLite is left
    as production leaves it: nothing runs ANALYZE there.)"""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def reference_insert(engine: Engine, count: int, template_id: str) -> float:
    """Bare executemany of ``count`` outbox rows (the floor of any enqueue), removed afterwards."""
    now = utcnow()
    payload = template_payload(template_id)
    rows = (
        seeding.outbox_row(f"ref:{n}", f"oBench{n}", payload, now, OutboxStatus.CANCELLED)
        for n in range(count)
    )
    started = time.perf_counter()
    seeding.insert_chunks(engine, OutboxMessage, rows, size=500)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE outbox CASCADE"))  # nothing else is there yet
        else:
            conn.execute(delete(OutboxMessage))
    settle(engine)
    return seconds


def fake_wechat(
    engine: Engine, account: str, secret: str, template_id: str, latency_ms: int
) -> FakeWeChatServer:
    state = FakeWeChatState(limits=Limits(template_daily=10**9))
    state.register_app(account, secret)
    state.register_template(template_id)
    for openid, window in seeding.openids(engine, account):
        if window:
            state.user_interaction(openid)
        else:
            state.add_follower(openid)
    state.set_latency("*", latency_ms)
    return FakeWeChatServer(state).start()


def count_sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)) or 0)


def sent_by_channel(engine: Engine) -> Counter[str]:
    query = (
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.status == OutboxStatus.SENT)
        .group_by(OutboxMessage.channel)
    )
    with engine.connect() as conn:
        return Counter({str(channel): int(n) for channel, n in conn.execute(query)})


def count_all(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@dataclass(frozen=True)
class Delivered:
    rate: float  # messages per second in steady state
    seconds: float  # how long the steady state was measured
    sent: int
    total: int
    by_channel: dict[str, float]  # steady-state rate per channel
    peaks_mb: list[float]  # each worker's peak RSS


def deliver(engine: Engine, config: Path, opts: Options, storage: str) -> Delivered:
    """Run the workers until everything is sent or the time box ends."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    results: mp.Queue[dict[str, Any]] = ctx.Queue()
    limit = f"{opts.rate_limit}/minute"
    procs = [
        ctx.Process(
            target=delivery_process, args=(str(config), storage, limit, opts.concurrency, stop, results)
        )
        for _ in range(opts.workers)
    ]
    for proc in procs:
        proc.start()
    started = time.monotonic()
    mark: tuple[float, Counter[str]] | None = None
    sent, total = count_sent(engine), count_all(engine)
    while time.monotonic() - started < opts.warmup + opts.delivery_seconds and sent < total:
        time.sleep(1.0)
        sent = count_sent(engine)
        if mark is None and time.monotonic() - started >= opts.warmup:
            mark = (time.monotonic(), sent_by_channel(engine))
    end, at_end = time.monotonic(), sent_by_channel(engine)
    stop.set()
    peaks = [results.get(timeout=60)["peak_mb"] for _ in procs]
    for proc in procs:
        proc.join(30)
    if mark is None:  # everything went out during the warm-up: use the whole run
        mark = (started, Counter())
    seconds = max(end - mark[0], 1e-9)
    by_channel = {channel: (at_end[channel] - mark[1][channel]) / seconds for channel in at_end}
    return Delivered(sum(by_channel.values()), seconds, sent, total, by_channel, peaks)


def run(opts: Options) -> None:
    print(machine())
    print(f"\n== daily dispatch: {opts.residents:,} residents on {opts.database} ==")
    with scratch_database(opts.database) as url, tempfile.TemporaryDirectory(prefix="lanxi-dd-") as tmpdir:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        base = load_settings(write_config(Path(tmpdir) / "base.toml", {"database": {"url": url}}))
        account, secret = base.wechat.app_id, base.wechat.app_secret
        template_id = base.wechat.checkin_template_id
        seconds = seed(engine, opts.residents, account, opts.window_percent)
        note(f"seeded {opts.residents:,} residents and identities in {seconds:.1f} s")
        reference = reference_insert(engine, opts.residents, template_id)
        fake = fake_wechat(engine, account, secret, template_id, opts.latency_ms)
        try:
            config = write_config(
                Path(tmpdir) / "bench.toml",
                {
                    "database": {"url": url},
                    "wechat": {"api_base_url": fake.url, "open_base_url": fake.url},
                    "wecom": {"api_base_url": fake.url},
                    "delivery": {"concurrency": opts.concurrency},
                },
            )
            enqueued = enqueue(engine, config, opts)
            report_enqueue(opts, enqueued, reference)
            storage = base.delivery.broker_url if opts.workers > 1 else "memory://"
            shares = channel_shares(engine)
            bare = bare_http_rate(engine, config, opts, account) if concurrency_binds(opts, shares) else None
            report_delivery(opts, shares, deliver(engine, config, opts, storage), bare)
        finally:
            fake.stop()
            engine.dispose()


def enqueue(engine: Engine, config: Path, opts: Options) -> dict[str, Any]:
    """Run the enqueue in a fresh process; past ``--enqueue-seconds`` stop it and extrapolate."""
    ctx = mp.get_context("spawn")
    results: mp.Queue[dict[str, Any]] = ctx.Queue()
    proc = ctx.Process(target=enqueue_process, args=(str(config), opts.synthetic, results))
    proc.start()
    outcome = results.get()
    started = time.monotonic()
    while True:
        try:
            outcome |= results.get(timeout=2)
            proc.join()
            return outcome | {"time_boxed": False}
        except queue.Empty:
            if time.monotonic() - started < opts.enqueue_seconds:
                continue
        peak = peak_rss_mb(proc.pid or 0)  # before it goes: the kernel's record of its peak
        rows = count_all(engine)
        seconds = time.monotonic() - started
        proc.terminate()
        proc.join()
        extrapolated = seconds * opts.residents / max(rows, 1)
        summary = {"enqueued_in_time_box": rows, "rows_per_second": round(rows / seconds)}
        return outcome | {"seconds": extrapolated, "summary": summary, "peak_mb": peak, "time_boxed": True}


def report_enqueue(opts: Options, enqueued: dict[str, Any], reference: float) -> None:
    seconds = enqueued["seconds"]
    target = ENQUEUE_TARGET_SECONDS_PER_MILLION * opts.residents / 1_000_000
    figure(
        f"enqueue_seconds_{opts.residents}_{opts.database}",
        seconds,
        "s",
        reference="bare_executemany_seconds",
        ref_value=reference,
        target=f"< {target:.3g} s (2 min per million, PostgreSQL)",
        met=seconds < target,
    )
    how = "the daily_checkin job" if enqueued["job"] else "synthetic outbox.enqueue (no daily_checkin job)"
    note(f"{how}: {enqueued['summary']}; {opts.residents / seconds:,.0f} residents/s")
    if enqueued["time_boxed"]:
        note(f"time-boxed at {opts.enqueue_seconds} s and stopped: the seconds above are extrapolated")
    figure(
        f"enqueue_peak_rss_mb_{opts.residents}",
        enqueued["peak_mb"],
        "MB",
        reference="same_process_at_start_mb",
        ref_value=enqueued["baseline_mb"],
        target=f"< {MEMORY_TARGET_MB} MB",
        met=enqueued["peak_mb"] < MEMORY_TARGET_MB,
    )


def channel_shares(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        query = select(OutboxMessage.channel, func.count()).group_by(OutboxMessage.channel)
        counts = {str(channel): int(n) for channel, n in conn.execute(query)}
    total = sum(counts.values()) or 1
    return {channel: n / total for channel, n in counts.items()}


def by_concurrency(opts: Options) -> float:
    return opts.workers * opts.concurrency * 1000 / opts.latency_ms


def concurrency_binds(opts: Options, shares: dict[str, float]) -> bool:
    """Whether concurrency / latency is lower than what the busiest channel's limit lets through
    (a channel with share s and limit L lets the whole stream run at L / s)."""
    return opts.rate_limit / 60 / max(shares.values()) >= by_concurrency(opts)


def report_delivery(opts: Options, shares: dict[str, float], run: Delivered, bare: float | None) -> None:
    """Against what binds: the busiest channel's limit, or concurrency / latency for all channels
    together; then, when concurrency binds, also against the bare threads' measured rate."""
    per_limit = opts.rate_limit / 60
    busiest = max(shares, key=lambda channel: shares[channel])
    if not concurrency_binds(opts, shares):
        name, rate, reference, ceiling = (
            f"{busiest}_",
            run.by_channel.get(busiest, 0.0),
            "its limit",
            per_limit,
        )
    else:
        name, rate, reference, ceiling = "", run.rate, "concurrency/latency", by_concurrency(opts)
    figure(
        f"delivered_{name}per_second_{opts.residents}",
        rate,
        "msg/s",
        reference=reference,
        ref_value=ceiling,
        target="ratio >= 0.9",
        met=rate >= 0.9 * ceiling,
    )
    if bare is not None:
        figure(
            f"delivered_per_second_{opts.residents}_vs_bare_http",
            run.rate,
            "msg/s",
            reference="bare_http_calls_per_second",
            ref_value=bare,
        )
        note(
            f"bare: {opts.workers * opts.concurrency} threads making the same calls to the same stand-in"
            f" without the outbox, {opts.bare_seconds:.0f} s before delivery, reach"
            f" {bare / by_concurrency(opts):.0%} of concurrency / latency (the stand-in's and the HTTP"
            " client's own time per call)"
        )
    note(
        f"{run.sent:,} of {run.total:,} delivered; steady state measured over {run.seconds:.0f} s with"
        f" {opts.workers} worker(s) x {opts.concurrency} threads, {opts.latency_ms} ms per call,"
        f" limit {opts.rate_limit}/minute per channel"
    )
    for channel, share in sorted(shares.items()):
        rate = run.by_channel.get(channel, 0.0)
        note(f"  {channel}: {share:.0%} of the prompts, {rate:.1f}/s = {rate / per_limit:.0%} of its limit")
    if run.sent < run.total and run.rate > 0:
        hours = opts.residents / run.rate / 3600
        note(f"time-boxed: at this rate the day's {opts.residents:,} prompts take {hours:.2f} h")
    peaks = run.peaks_mb
    worst = max(peaks)
    figure(
        f"worker_peak_rss_mb_{opts.residents}",
        worst,
        "MB",
        reference="memory_target_mb",
        ref_value=MEMORY_TARGET_MB,
        target=f"< {MEMORY_TARGET_MB} MB",
        met=worst < MEMORY_TARGET_MB,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=13_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--window-percent", type=int, default=30, help="residents whose 48 h window is open")
    parser.add_argument("--rate-limit", type=int, default=3000, help="messages per minute per channel")
    parser.add_argument("--workers", type=int, default=1, help="delivery processes")
    parser.add_argument("--concurrency", type=int, default=16, help="delivery threads per process")
    parser.add_argument("--latency-ms", type=int, default=50, help="the fake's latency per call")
    parser.add_argument("--delivery-seconds", type=int, default=60, help="time box of the delivery run")
    parser.add_argument("--enqueue-seconds", type=int, default=600, help="time box of the enqueue")
    parser.add_argument(
        "--warmup",
        type=int,
        default=65,
        help="seconds before the rate is measured (the limits allow a first-minute burst)",
    )
    parser.add_argument("--synthetic", action="store_true", help="enqueue via outbox.enqueue, not the job")
    parser.add_argument("--bare-seconds", type=float, default=15.0, help="the bare reference's duration")
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not postgres_available():
        print("PostgreSQL does not answer (set LANXI_BENCH_PG_URL) or use --database sqlite", file=sys.stderr)
        return 2
    run(Options(**{k.replace("-", "_"): v for k, v in vars(args).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
