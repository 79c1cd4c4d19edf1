"""What every benchmark shares: the machine line, scratch databases, figures, memory, ports.

Every figure is printed as one line starting ``figure:`` with its reference measured in the same
run and the ratio, so a reader (and the smoke tests) can find them in any script's output.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db import normalize_url

# The server the test suite uses; benchmarks create (and drop) a database of their own on it.
PG_ADMIN_URL = os.environ.get(
    "LANXI_BENCH_PG_URL", os.environ.get("LANXI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """One line naming the machine: cores, CPU model, memory, Python, and that cores are shared."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"machine: {os.cpu_count()} cores ({model}), {mem_gib:.0f} GiB, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}; load generator, servers and database share these cores;"
        f" load average at start {os.getloadavg()[0]:.1f}"
    )


def loadavg() -> str:
    """The machine's load right now (the cores are shared): /proc/loadavg as it reads."""
    path = Path("/proc/loadavg")
    found = path.read_text().strip() if path.exists() else " ".join(f"{n:.2f}" for n in os.getloadavg())
    return f"loadavg: {found}"


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    reference: str,
    ref_value: float,
    target: str = "",
    met: bool | None = None,
) -> str:
    """Print and return one figure line: the value, its same-run reference, the ratio, the target."""
    ratio = value / ref_value if ref_value else float("nan")
    verdict = "" if met is None else (" met" if met else " MISSED")
    aim = f" | target {target}{verdict}" if target else ""
    line = (
        f"figure: {name} = {value:.4g} {unit} | reference {reference} = {ref_value:.4g} {unit}"
        f" | ratio {ratio:.3f}{aim}"
    )
    print(line, flush=True)
    return line


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of the values; nan for none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def note(message: str) -> None:
    print(f"  {message}", flush=True)


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident set size so far, in MB: the kernel's VmHWM of its memory.

    Not ``getrusage``: Linux carries ru_maxrss across exec, so a process spawned by a big parent
    would report the parent's size."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_available() -> bool:
    try:
        probe = create_engine(normalize_url(PG_ADMIN_URL), connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
    except Exception:  # unreachable, refused, bad credentials: all mean "not here"
        return False
    return True


def postgres_version() -> str:
    engine = create_engine(normalize_url(PG_ADMIN_URL))
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return version


@contextmanager
def scratch_database(kind: str, keep: bool = False) -> Iterator[str]:
    """A fresh, empty database URL of this kind ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="lanxi-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"lanxi_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(PG_ADMIN_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_config(path: Path, sections: dict[str, dict[str, object]]) -> Path:
    """A TOML configuration file for the processes a benchmark starts (strings, numbers, booleans)."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {str(value).lower()}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def child_env(config: Path) -> dict[str, str]:
    """The environment for a child process: this configuration, and no stray overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANXI_")}
    env["LANXI_CONFIG"] = str(config)
    env["PYTHONPATH"] = str(ROOT)
    return env


def command_exists(name: str) -> bool:
    return shutil.which(name) is not None
