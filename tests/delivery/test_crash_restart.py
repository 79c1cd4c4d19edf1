"""Crash and restart: `lanxi worker` killed with SIGKILL mid-delivery loses nothing, and after a restart at
most the rows that were in flight at the kill reach WeChat twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.fake_wechat import FakeWeChatState
from bot.models import OutboxStatus
from bot.runtime import Runtime

from .support import (
    LANXI,
    all_sent,
    duplicates,
    enqueue_templates,
    kill,
    log_tail,
    openid,
    running,
    status_counts,
    wait_until,
    write_config,
)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing_after_a_restart(
    live_rt: Runtime, state: FakeWeChatState, tmp_path: Path
) -> None:
    total = 200
    state.set_latency("message/template/send", 50)
    enqueue_templates(live_rt, state, total)
    database, wechat = live_rt.settings.database.url, live_rt.settings.wechat.api_base_url
    first = write_config(tmp_path / "first.toml", database, wechat, backend="inline", concurrency=4)
    with running([str(LANXI), "worker", "--config", str(first)], tmp_path, "first") as worker:
        wait_until(lambda: len(state.delivered("template")) >= 40, 60, lambda: log_tail(tmp_path, "first"))
        kill(worker)
    at_kill = status_counts(live_rt)
    assert at_kill[OutboxStatus.SENDING] > 0 and at_kill[OutboxStatus.SENT] < total, at_kill
    # Restarted with a short sending lease: the rows the dead worker held come back after two seconds.
    restart = write_config(
        tmp_path / "restart.toml", database, wechat, backend="inline", concurrency=4, sending_lease_seconds=2
    )
    with running([str(LANXI), "worker", "--config", str(restart)], tmp_path, "restart"):
        wait_until(all_sent(live_rt, total), 60, lambda: log_tail(tmp_path, "restart"))
    assert {d.target for d in state.delivered("template")} == {openid(n) for n in range(total)}
    assert duplicates(state, "template") <= at_kill[OutboxStatus.SENDING]
