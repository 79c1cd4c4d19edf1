"""`lanxi fake-wechat` as a real server process; `lanxi jobs list` and `lanxi jobs run` through CliRunner."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.config import WeChatSettings
from bot.db import begin_immediate
from bot.jobs import JOBS
from bot.models import JobRun, OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import outbox
from web.cli import cli

from .support import LANXI, free_port, log_tail, running, text, wait_until, write_config


def test_lanxi_fake_wechat_serves_wechat_and_its_control_api(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([str(LANXI), "fake-wechat", "--port", str(port)], tmp_path, "fake"):

        def answers() -> bool:
            try:
                return requests.get(f"{base}/_fake/stats", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(answers, 30, lambda: log_tail(tmp_path, "fake"))
        # The built-in configuration's credentials are the ones it accepts.
        body = {
            "grant_type": "client_credential",
            "appid": WeChatSettings.app_id,
            "secret": WeChatSettings.app_secret,
        }
        token = requests.post(f"{base}/cgi-bin/stable_token", json=body, timeout=5).json()
        assert len(token["access_token"]) >= 32 and token["expires_in"] > 0
        stats = requests.get(f"{base}/_fake/stats", timeout=5).json()
    assert stats["ok"] is True and stats["token_fetches"] == 1


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_lanxi_jobs_list_shows_every_declared_job_and_its_schedule(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/jobs.db", "http://127.0.0.1:9")
    lines = invoke(config, "jobs", "list").splitlines()
    assert [line.split()[0] for line in lines] == [spec.id for spec in JOBS]
    listed = dict(line.split(None, 1) for line in lines)
    assert listed["outbox_sweep"].startswith("every 15s")


# `lanxi` builds its own engine and leaves its pool to the process's exit: SQLite keeps that quiet.
@pytest.mark.parametrize("committing_rt", ["sqlite"], indirect=True)
def test_lanxi_jobs_run_outbox_sweep_reclaims_rows_of_a_dead_worker(
    committing_rt: Runtime, tmp_path: Path
) -> None:
    rt = committing_rt
    with rt.session() as db:
        stale = outbox.enqueue(db, key="k-stale", channel="oa_custom", recipient="o1", payload=text("a")).id
        outbox.enqueue(db, key="k-queued", channel="oa_custom", recipient="o2", payload=text("b"))
    with rt.session() as db:
        begin_immediate(db)
        outbox.claim(db, "dead-worker", 1)
        long_ago = utcnow() - timedelta(minutes=10)
        db.execute(update(OutboxMessage).where(OutboxMessage.id == stale).values(claimed_at=long_ago))
    config = write_config(tmp_path / "config.toml", rt.settings.database.url, "http://127.0.0.1:9")
    summary = json.loads(invoke(config, "jobs", "run", "outbox_sweep"))
    assert summary == {"reclaimed": 1, "due": 2}
    with rt.session() as db:
        assert db.get(OutboxMessage, stale).status == OutboxStatus.QUEUED  # type: ignore[union-attr]
        [run] = db.scalars(select(JobRun).where(JobRun.job_id == "outbox_sweep")).all()
        assert run.status == "done" and run.summary == summary


def test_lanxi_jobs_run_refuses_an_unknown_job(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/jobs.db", "http://127.0.0.1:9")
    result = CliRunner().invoke(cli, ["--config", str(config), "jobs", "run", "no_such_job"])
    assert result.exit_code == 2 and "outbox_sweep" in result.output
