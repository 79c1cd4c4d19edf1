"""CPU time the processes under test spent, read from /proc (Linux): a cost per request that
other sessions' load on the shared cores moves far less than it moves requests per second.

A server's cost is its gunicorn master and workers; on PostgreSQL also the server backends of
its connections, found by the ``application_name`` its processes set through ``PGAPPNAME``.
PostgreSQL's own background processes (WAL writer, checkpointer) are not counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants, as they are now."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            todo.extend(int(child) for child in children.read_text().split())
    return found


def cpu_times(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes so far (those gone are left out)."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: stat(5) fields 14, 15
    return times


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process started in between counts from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
