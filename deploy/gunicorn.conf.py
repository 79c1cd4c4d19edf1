"""gunicorn settings for the web tier: ``gunicorn --config deploy/gunicorn.conf.py web.wsgi:app``.

Override any of them per machine on the command line or in GUNICORN_CMD_ARGS, e.g.
``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8080 --workers 9"``. See docs/operations.md.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = "127.0.0.1:8080"  # behind nginx (TLS), which WeChat and browsers reach
# Sync workers: a callback is short and CPU-bound apart from the database commit; more workers than
# cores keep the cores busy while some wait for PostgreSQL (docs/benchmarks.md measures this).
workers = 2 * multiprocessing.cpu_count() + 1
worker_class = "sync"
timeout = 30  # WeChat gives up on a callback after 5 s; a panel export may take longer
graceful_timeout = 30
# Never preload: each worker must open its own database pool after the fork.
preload_app = False
# Recycle workers now and then (long-lived processes, many libraries).
max_requests = 10_000
max_requests_jitter = 1_000
forwarded_allow_ips = "127.0.0.1"  # trust X-Forwarded-* from the local proxy only
accesslog = "-"
errorlog = "-"
loglevel = "info"


def on_starting(server: Any) -> None:
    """Counters from every worker are summed at /metrics: they write to one directory (emptied here)."""
    directory = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "lanxi-prometheus")
    )
    shutil.rmtree(directory, ignore_errors=True)
    Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
