"""Helpers for the delivery tests: the fake WeChat's scenario, outbox rows and counts, waiting, children."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.channels import build_channels
from bot.channels.tokens import TokenStore
from bot.config import WeChatSettings, WeComSettings, replace
from bot.delivery.inline import InlineDelivery
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatState, Limits
from bot.models import OutboxMessage, OutboxStatus
from bot.runtime import Runtime
from bot.services import outbox

APPID, APP_SECRET = WeChatSettings.app_id, WeChatSettings.app_secret
CORPID, CORP_SECRET, AGENTID = WeComSettings.corp_id, WeComSettings.secret, WeComSettings.agent_id
TEMPLATE_ID = WeChatSettings.checkin_template_id
ROBOT_A = "5a1c2e3f-0b9a-4c8d-9e7f-lanxi-delivery-a"
ROBOT_B = "6b2d3f40-1cab-4d9e-8f80-lanxi-delivery-b"
HTTP_TIMEOUT = 0.5  # loopback answers in milliseconds; a hung request must not cost seconds
LANXI = Path(sys.executable).with_name("lanxi")


def wechat_state(clock: Callable[[], float] = time.time, limits: Limits | None = None) -> FakeWeChatState:
    """The fake WeChat knowing the default app, corp, check-in template and two group robots."""
    state = FakeWeChatState(clock=clock, limits=limits or Limits(hang_seconds=5.0))
    state.register_app(APPID, APP_SECRET)
    state.register_corp(CORPID, CORP_SECRET, AGENTID)
    state.register_template(TEMPLATE_ID)
    for key in (ROBOT_A, ROBOT_B):
        state.register_robot(key)
    return state


def at_fake(rt: Runtime, url: str, **delivery: Any) -> Runtime:
    """``rt`` (same database and sessions) with every WeChat base URL at ``url``."""
    settings = replace(
        rt.settings,
        wechat={"api_base_url": url, "open_base_url": url, "http_timeout": HTTP_TIMEOUT},
        wecom={"api_base_url": url},
        delivery=delivery,
    )
    return Runtime(settings, rt.engine, rt.sessions)


def openid(n: int) -> str:
    return f"oLanxiDelivery{n:013d}"


def text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def template(n: int) -> dict[str, Any]:
    return {"template_id": TEMPLATE_ID, "data": {"first": {"value": f"第 {n} 条打卡提醒"}}}


def enqueue_templates(
    rt: Runtime, state: FakeWeChatState, count: int, rate_key: str | None = None
) -> list[int]:
    """``count`` template messages to as many followers (one each), committed; their row ids."""
    with rt.session() as db:
        ids = []
        for n in range(count):
            state.add_follower(openid(n))
            row = outbox.enqueue(
                db,
                key=f"test:template:{n}",
                channel="oa_template",
                recipient=openid(n),
                payload=template(n),
                rate_key=rate_key,
            )
            ids.append(row.id)
    return ids


def status_counts(rt: Runtime) -> Counter[OutboxStatus]:
    with rt.session() as db:
        rows = db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return Counter({status: count for status, count in rows})


def all_sent(rt: Runtime, total: int) -> Callable[[], bool]:
    return lambda: status_counts(rt)[OutboxStatus.SENT] == total


def row(rt: Runtime, row_id: int) -> OutboxMessage:
    with rt.session() as db:
        found = db.get(OutboxMessage, row_id)
    assert found is not None
    return found


def wait_until(done: Callable[[], bool], timeout: float = 20.0, what: str | Callable[[], str] = "it") -> None:
    """Polls ``done``; on time-out fails saying ``what`` (a callable is asked only then, e.g. for a log)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what() if callable(what) else what}"
            )
        time.sleep(0.02)


def duplicates(state: FakeWeChatState, kind: str) -> int:
    """Deliveries beyond the first per target."""
    per_target = Counter(d.target for d in state.delivered(kind))
    return sum(n - 1 for n in per_target.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_config(path: Path, database_url: str, fake_url: str, **delivery: Any) -> Path:
    """A TOML configuration pointing a `lanxi` subprocess at the test's database and fake WeChat."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": database_url},
        "wechat": {"api_base_url": fake_url, "open_base_url": fake_url, "http_timeout": 2.0},
        "wecom": {"api_base_url": fake_url},
        "delivery": delivery,
    }
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    """The environment for a `lanxi` child: none of this shell's LANXI_* overrides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LANXI_")}


@contextmanager
def running(args: Sequence[str], cwd: Path, name: str = "child") -> Iterator[subprocess.Popen[bytes]]:
    """A child process that is always gone afterwards (SIGKILL if it did not stop); stderr in cwd/NAME.log."""
    with (cwd / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(list(args), cwd=cwd, env=child_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            kill(proc)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def log_tail(cwd: Path, name: str, lines: int = 30) -> str:
    path = cwd / f"{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@contextmanager
def delivering(rt: Runtime, threads: int = 4, gate: RateGate | None = None) -> Iterator[TokenStore]:
    """Inline delivery threads running over ``rt`` (its own token store, like a separate process)."""
    tokens = TokenStore(rt)
    delivery = InlineDelivery(rt, build_channels(rt, tokens), gate or RateGate(), threads)
    delivery.start()
    try:
        yield tokens
    finally:
        delivery.stop()
        tokens.close()
