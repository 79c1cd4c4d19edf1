"""Callback throughput: signed, AES-encrypted text messages through /wechat/callback on gunicorn.

Each request is a unique message (its own MsgId and sender) saying 绑定, so every one is verified,
decrypted, stored, deduplicated against the table, opens a conversation (the binding flow's first
step, its state saved) and is answered with an encrypted passive reply. Two references, on the same
gunicorn settings, loaded the same way in the same run: the bare Flask endpoint returning a constant
reply (bench/bare_app.py), and the durable floor (bench/floor_app.py): the same endpoint storing one
unique row per request with a commit, on a plain driver connection. The floor is what any callback
that stores the message before answering must pay; callback/floor says how close this one gets.

    .venv/bin/python -m bench.callback_throughput                 # PostgreSQL (4 workers) and SQLite (1)
    .venv/bin/python -m bench.callback_throughput --modes sqlite --seconds 3 --latency-seconds 2

Load: wrk (``apt-get install wrk``) for the maximum, bench.loadgen.fixed_rate for p99 at half of it.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from bench.common import (
    child_env,
    command_exists,
    figure,
    free_port,
    loadavg,
    machine,
    note,
    postgres_available,
    scratch_database,
    write_config,
)
from bench.cpu import cpu_times, process_tree, spent
from bench.floor_app import CREATE_TABLE, URL_ENV
from bench.loadgen import (
    FixedRateResult,
    Gunicorn,
    Request,
    WrkResult,
    fixed_rate,
    write_requests,
    wrk,
)
from bot.config import WeChatSettings
from bot.db import make_engine
from bot.models import Base, InboundMessage, InboundStatus
from bot.wechat import protocol
from bot.wechat.crypto import CallbackCredentials

CREDS = CallbackCredentials(
    token=WeChatSettings.token, encoding_aes_key=WeChatSettings.encoding_aes_key, app_id=WeChatSettings.app_id
)


@dataclass(frozen=True)
class Options:
    seconds: int
    warmup: int
    latency_seconds: int
    connections: int
    workers: int
    worker_class: str
    threads: int
    text: str


class Messages:
    """Unique signed and encrypted callbacks, numbered across the run so none repeats."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._next = 1

    def take(self, count: int) -> list[Request]:
        now = int(time.time())  # fresh timestamps: the endpoint refuses those older than 5 minutes
        out = []
        for n in range(self._next, self._next + count):
            xml = protocol.render_inbound_xml(
                ToUserName="gh_lanxi",
                FromUserName=f"oBench{n:010d}",
                CreateTime=now,
                MsgType="text",
                Content=self._text,
                MsgId=7_000_000_000 + n,
            )
            args, body = protocol.build_oa_callback(
                CREDS, xml, mode="safe", timestamp=now, nonce=secrets.token_hex(4)
            )
            out.append((f"/wechat/callback?{urlencode(args)}", body))
        self._next += count
        return out


@dataclass(frozen=True)
class Measured:
    """A server at full load: wrk's figures and the CPU it cost per response meanwhile."""

    wrk: WrkResult
    cpu_ms: float

    @property
    def rps(self) -> float:
        return self.wrk.rps


CpuReading = Callable[[], dict[int, float]]
# The servers' names, also their PostgreSQL application_name (PGAPPNAME), to find their backends.
BARE, FLOOR, APP = "lanxi-bench-bare", "lanxi-bench-floor", "lanxi-bench-app"


def measure_max(
    port: int, messages: Messages, opts: Options, tmp: Path, estimate: float, cpu: CpuReading
) -> Measured:
    """wrk at full load with enough unique messages for the whole run (no wraps)."""
    count = int(max(estimate, 50) * opts.seconds * 1.6) + 500
    path = write_requests(tmp / f"requests-{port}.txt", messages.take(count))
    before = cpu()
    result = wrk(port, path, seconds=opts.seconds, connections=opts.connections)
    return Measured(result, spent(before, cpu()) * 1000 / max(result.requests, 1))


def server_cpu(server: Gunicorn, engine: Engine, app_name: str) -> CpuReading:
    """The CPU times of a server's gunicorn processes and of its PostgreSQL backends, if any."""

    def read() -> dict[int, float]:
        pids = process_tree(server.pid)
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                query = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
                pids += list(conn.execute(query, {"name": app_name}).scalars())
        return cpu_times(pids)

    return read


def run_mode(kind: str, workers: int, opts: Options) -> None:
    print(f"\n== {kind}: gunicorn {workers} worker(s), {opts.worker_class}, {opts.threads} thread(s) ==")
    print(loadavg(), flush=True)
    with scratch_database(kind) as url, tempfile.TemporaryDirectory(prefix="lanxi-cb-") as tmpdir:
        tmp = Path(tmpdir)
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text(CREATE_TABLE))
        config = write_config(
            tmp / "bench.toml", {"database": {"url": url}, "delivery": {"backend": "inline"}}
        )
        env = child_env(config)
        messages = Messages(opts.text)

        def server(app: str, name: str, extra: dict[str, str] | None = None) -> Gunicorn:
            return Gunicorn(  # the same settings for all three
                app,
                free_port(),
                {**env, "PGAPPNAME": name, **(extra or {})},  # libpq names its connections so
                workers=workers,
                worker_class=opts.worker_class,
                threads=opts.threads,
                log=tmp / f"{name}.log",
            )

        def max_of(server: Gunicorn, name: str) -> Measured:
            warm = measure_warmup(server.port, messages, opts, tmp)
            return measure_max(server.port, messages, opts, tmp, warm, server_cpu(server, engine, name))

        with (
            server("bench.bare_app:app", BARE) as bare_server,
            server("bench.floor_app:app", FLOOR, {URL_ENV: driver_url(url)}) as floor_server,
            server("web.wsgi:app", APP) as app_server,
        ):
            bare = max_of(bare_server, BARE)
            floor = max_of(floor_server, FLOOR)
            floor_rows = count(engine, "SELECT count(*) FROM floor_rows")
            before = stored(engine)
            app_warm = measure_warmup(app_server.port, messages, opts, tmp)
            warm_stored = stored(engine) - before
            app_cpu = server_cpu(app_server, engine, APP)
            app = measure_max(app_server.port, messages, opts, tmp, app_warm, app_cpu)
            handled = stored(engine) - before - warm_stored
            report_max(kind, app.wrk, bare.wrk, handled)
            report_floor(kind, app.wrk, bare.wrk, floor.wrk, floor_rows)
            report_cpu(kind, app, bare, floor)
            rate = app.rps / 2
            batch = messages.take(int(rate * opts.latency_seconds))
            app_lat = fixed_rate(app_server.port, batch, rate)
            bare_lat = fixed_rate(bare_server.port, messages.take(len(batch)), rate)
        engine.dispose()
    report_latency(kind, rate, app_lat, bare_lat)


def driver_url(url: str) -> str:
    """The URL a plain driver takes: ``postgresql://…`` for psycopg, ``sqlite:///path`` as it is."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return url


def measure_warmup(port: int, messages: Messages, opts: Options, tmp: Path) -> float:
    """A short first run: warms the workers' caches and tells how many messages the real run needs."""
    path = write_requests(tmp / f"warm-{port}.txt", messages.take(3000))
    return wrk(port, path, seconds=opts.warmup, connections=opts.connections).rps


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(InboundMessage.status == InboundStatus.PROCESSED)
            ).scalar_one()
        )


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def report_max(kind: str, app: WrkResult, bare: WrkResult, handled: int) -> None:
    figure(
        f"callback_rps_{kind}",
        app.rps,
        "req/s",
        reference="bare_flask_rps",
        ref_value=bare.rps,
        target="ratio >= 0.5",
        met=app.rps >= 0.5 * bare.rps,
    )
    note(
        f"callback: {app.requests} responses, {app.non_2xx} non-2xx, {app.socket_errors} socket errors,"
        f" {app.wraps} wraps, {handled} messages stored as processed; wrk p50 {app.p50_ms:.1f} ms,"
        f" p99 {app.p99_ms:.1f} ms at full load"
    )
    note(
        f"bare: {bare.requests} responses, {bare.non_2xx} non-2xx; wrk p99 {bare.p99_ms:.1f} ms at full load"
    )
    if app.non_2xx or app.wraps or handled < app.requests:
        note("WARNING: some callbacks were refused, repeated or not stored; see the counts above")


def report_floor(kind: str, app: WrkResult, bare: WrkResult, floor: WrkResult, floor_rows: int) -> None:
    """The durable floor against the bare endpoint, and the callback against the floor."""
    figure(f"floor_rps_{kind}", floor.rps, "req/s", reference="bare_flask_rps", ref_value=bare.rps)
    figure(f"callback_rps_{kind}_vs_floor", app.rps, "req/s", reference="floor_rps", ref_value=floor.rps)
    note(
        f"floor: {floor.requests} responses, {floor.non_2xx} non-2xx, {floor.wraps} wraps,"
        f" {floor_rows} rows stored (warm-up included); wrk p50 {floor.p50_ms:.1f} ms,"
        f" p99 {floor.p99_ms:.1f} ms at full load"
    )
    if floor.non_2xx or floor.wraps or floor_rows < floor.requests:
        note("WARNING: some floor requests were refused, repeated or not stored; see the counts above")
    if floor.rps < 0.5 * bare.rps:
        note(
            f"floor/bare = {floor.rps / bare.rps:.3f} < 0.5: on this machine no callback that stores"
            " the message durably before answering can reach half the bare endpoint's rate"
        )


def report_cpu(kind: str, app: Measured, bare: Measured, floor: Measured) -> None:
    """CPU per response: what other sessions' load on the shared cores moves least."""
    figure(
        f"callback_cpu_ms_per_request_{kind}",
        app.cpu_ms,
        "ms",
        reference="bare_flask_cpu_ms_per_request",
        ref_value=bare.cpu_ms,
    )
    note(
        f"CPU per response at full load (gunicorn processes, and on PostgreSQL their server backends):"
        f" callback {app.cpu_ms:.2f} ms, floor {floor.cpu_ms:.2f} ms, bare {bare.cpu_ms:.2f} ms"
    )


def report_latency(kind: str, rate: float, app: FixedRateResult, bare: FixedRateResult) -> None:
    p99, ref99 = app.percentile(99), bare.percentile(99)
    figure(
        f"callback_p99_ms_at_half_max_{kind}",
        p99,
        "ms",
        reference="bare_flask_p99_ms_same_rate",
        ref_value=ref99,
        target="< 100 ms",
        met=p99 < 100,
    )
    note(
        f"offered {rate:.0f} req/s for {len(app.latencies_ms)} requests (achieved {app.achieved_rps:.0f});"
        f" callback p50 {app.percentile(50):.1f} ms, {app.errors} errors;"
        f" bare p50 {bare.percentile(50):.1f} ms, {bare.errors} errors"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration at full load")
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up seconds")
    parser.add_argument("--latency-seconds", type=int, default=15, help="fixed-rate run for the p99")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers on PostgreSQL (SQLite: 1)")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--text", default="绑定", help="what each resident writes")
    args = parser.parse_args(argv)
    if not command_exists("wrk"):
        print(
            "wrk is missing: install it with `apt-get install -y wrk` (Debian) and run again", file=sys.stderr
        )
        return 2
    opts = Options(
        args.seconds,
        args.warmup,
        args.latency_seconds,
        args.connections,
        args.workers,
        args.worker_class,
        args.threads,
        args.text,
    )
    print(machine())
    for kind in args.modes.split(","):
        if kind == "postgresql" and not postgres_available():
            print("postgresql: skipped, the server does not answer (set LANXI_BENCH_PG_URL)")
            continue
        run_mode(kind, opts.workers if kind == "postgresql" else 1, opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
