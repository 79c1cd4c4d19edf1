"""Load from other processes on loopback: gunicorn servers, wrk for the maximum, a fixed-rate client.

wrk (Debian's 4.1, closed loop) measures the most requests per second a server gives. Latency is
measured at a fixed offered rate instead (wrk2-style, which Debian does not package): several
processes send request *i* at ``start + i / rate`` and time it from that scheduled moment, so a
server that falls behind is charged for the queue it builds (no coordinated omission).
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, percentile

WRK_SCRIPT = ROOT / "bench" / "wrk_cycle.lua"
Request = tuple[str, bytes]  # (path with query string, body)


class Gunicorn:
    """``gunicorn APP`` on a free loopback port, as a context manager that waits until it answers."""

    def __init__(
        self,
        app: str,
        port: int,
        env: dict[str, str],
        *,
        workers: int,
        worker_class: str,
        threads: int,
        log: Path,
    ) -> None:
        self.port = port
        self._log = log
        self._cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            app,
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--backlog=2048",
            "--log-level=warning",
        ]
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        with self._log.open("ab") as out:
            self._proc = subprocess.Popen(
                self._cmd, env=self._env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see {self._log}")
            if _status(self.port, "/healthz") == 200:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self._log}")

    @property
    def pid(self) -> int:
        """The gunicorn master's process id (its workers are its children)."""
        if self._proc is None:
            raise RuntimeError("gunicorn is not running")
        return self._proc.pid

    def __exit__(self, *_exc: object) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def _status(port: int, path: str) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


@dataclass(frozen=True)
class WrkResult:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int
    wraps: int
    p50_ms: float
    p99_ms: float


def write_requests(path: Path, requests: Sequence[Request]) -> Path:
    with path.open("w", encoding="ascii") as out:
        for target, body in requests:
            text = body.decode("ascii")
            if "\n" in text or "\t" in text or "\n" in target:
                raise ValueError("a request line may hold no tab or newline")
            out.write(f"{target}\t{text}\n")
    return path


def wrk(port: int, requests_file: Path, *, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    """The closed-loop maximum: ``connections`` requests always in flight for ``seconds``."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}/",
        "--",
        str(requests_file),
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> WrkResult:
    def number(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, out)
        return found.group(1) if found else default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        rps=float(number(r"Requests/sec:\s+([\d.]+)")),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        wraps=int(number(r"wraps: (\d+)")),
        p50_ms=_ms(number(r"50%\s+([\d.]+\w+)", "0ms")),
        p99_ms=_ms(number(r"99%\s+([\d.]+\w+)", "0ms")),
    )


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


@dataclass(frozen=True)
class FixedRateResult:
    latencies_ms: list[float]
    errors: int
    offered_rps: float
    achieved_rps: float

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def fixed_rate(
    port: int, requests: Sequence[Request], rate: float, *, processes: int = 2, threads: int = 24
) -> FixedRateResult:
    """Offer ``len(requests)`` requests at ``rate`` per second from several processes."""
    ctx = mp.get_context("fork")  # the children only need the prepared requests, inherited as is
    results: mp.Queue[tuple[list[float], int]] = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [
        ctx.Process(target=_client, args=(port, requests, rate, start_at, p, processes, threads, results))
        for p in range(processes)
    ]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, err = results.get()
        latencies += lat
        errors += err
    for proc in procs:
        proc.join()
    elapsed = max(time.time() - start_at, 1e-9)
    return FixedRateResult(latencies, errors, rate, len(latencies) / elapsed)


def _client(
    port: int,
    requests: Sequence[Request],
    rate: float,
    start_at: float,
    index: int,
    processes: int,
    threads: int,
    results: mp.Queue[tuple[list[float], int]],
) -> None:
    mine = list(range(index, len(requests), processes))
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(slot: int) -> None:
        local: list[float] = []
        for i in mine[slot::threads]:
            scheduled = start_at + i / rate
            time.sleep(max(0.0, scheduled - time.time()))
            target, body = requests[i]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", target, body, {"Content-Type": "text/xml"})
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status == 200
            except OSError:
                ok = False
            local.append((time.time() - scheduled) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    pool = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((latencies, errors[0]))
