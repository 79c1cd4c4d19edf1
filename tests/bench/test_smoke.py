"""Each benchmark runs end to end at a tiny size and prints its figures (so none rots unnoticed).

They run as `python -m bench.NAME`, the way docs/benchmarks.md says to run them, on SQLite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str, timeout: float = 120) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANXI_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: ")
    return done.stdout


def figures(out: str) -> dict[str, str]:
    """figure name → the rest of its line."""
    lines = [line.removeprefix("figure: ") for line in out.splitlines() if line.startswith("figure: ")]
    return dict(line.split(" = ", 1) for line in lines)


def test_daily_dispatch_enqueues_and_delivers() -> None:
    out = run_bench(
        "bench.daily_dispatch",
        "--residents=60",
        "--database=sqlite",
        "--latency-ms=5",
        "--delivery-seconds=5",
        "--warmup=0",
    )
    found = figures(out)
    assert {"enqueue_seconds_60_sqlite", "enqueue_peak_rss_mb_60", "worker_peak_rss_mb_60"} <= set(found)
    assert any(name.startswith("delivered_") for name in found)
    assert "60 of 60 delivered" in out


def test_daily_dispatch_when_concurrency_binds_also_measures_bare_threads() -> None:
    out = run_bench(
        "bench.daily_dispatch",
        "--residents=40",
        "--database=sqlite",
        "--concurrency=2",
        "--rate-limit=600000",
        "--latency-ms=20",
        "--delivery-seconds=5",
        "--warmup=0",
        "--bare-seconds=1",
    )
    found = figures(out)
    assert "concurrency/latency = 100 msg/s" in found["delivered_per_second_40"]
    assert "bare_http_calls_per_second" in found["delivered_per_second_40_vs_bare_http"]
    assert "40 of 40 delivered" in out


def test_delivery_profile_delivers_everything_and_profiles_the_threads() -> None:
    out = run_bench(
        "bench.delivery_profile",
        "--database=sqlite",
        "--messages=30",
        "--threads=2",
        "--latency-ms=5",
        "--profile=cpu",
    )
    assert "concurrency/latency = 400 msg/s" in figures(out)["drained_per_second_sqlite"]
    assert "30 of 30 sent" in out
    assert "deliverer.py" in out and "recorder.py" in out


@pytest.mark.slow
def test_panel_scale_measures_every_page_and_explains() -> None:
    out = run_bench(
        "bench.panel_scale",
        "--databases=sqlite",
        "--residents=40",
        "--days=3",
        "--tips=60",
        "--leads=10",
        "--repeat=2",
    )
    found = figures(out)
    assert "page_p95_ms_sqlite_admin_dashboard" in found
    assert "page_p95_ms_sqlite_station_dashboard" in found
    assert any(name.startswith("page_p95_ms_sqlite_admin_list_") for name in found)
    assert "-- query plans (sqlite)" in out


def test_resident_import_creates_then_finds_every_row() -> None:
    out = run_bench("bench.resident_import", "--rows=50", "--database=sqlite")
    assert {"import_seconds_50_sqlite", "reimport_seconds_50_sqlite"} <= set(figures(out))
    assert "50 created" in out and "50 unchanged" in out


def test_callback_profile_breaks_the_time_down() -> None:
    out = run_bench("bench.callback_profile", "--requests=20")
    assert "callback_inprocess_ms_sqlite" in figures(out)
    assert "SQLAlchemy" in out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_callback_throughput_under_gunicorn() -> None:
    out = run_bench(
        "bench.callback_throughput",
        "--modes=sqlite",
        "--seconds=1",
        "--warmup=1",
        "--latency-seconds=1",
        "--connections=4",
    )
    rates = {"callback_rps_sqlite", "floor_rps_sqlite", "callback_rps_sqlite_vs_floor"}
    others = {"callback_cpu_ms_per_request_sqlite", "callback_p99_ms_at_half_max_sqlite"}
    assert rates | others <= set(figures(out))
    assert re.search(r"callback: \d+ responses, 0 non-2xx", out)
    floor = re.search(r"floor: (\d+) responses, 0 non-2xx, 0 wraps, (\d+) rows stored", out)
    assert floor and int(floor.group(2)) >= int(floor.group(1)) > 0  # every floor response stored
