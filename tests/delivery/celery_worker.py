"""What `lanxi worker` runs with backend = "celery", on a queue of the test's own: `python celery_worker.py
CONFIG QUEUE` (a separate Redis queue per test run keeps concurrent runs on one server apart)."""

from __future__ import annotations

import sys

from bot.config import load_settings
from bot.delivery.celery_backend import run_worker

if __name__ == "__main__":
    run_worker(load_settings(sys.argv[1]), queue=sys.argv[2])
