"""The web tier as deployed: gunicorn with deploy/gunicorn.conf.py running web.wsgi:app, several workers.

A signed, encrypted callback is answered through it, and /metrics sums what every worker counted
(Prometheus multiprocess mode), whichever worker answers the scrape.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import free_port, write_config
from bot.config import WeChatSettings
from bot.db import make_engine
from bot.models import Base
from bot.wechat import protocol
from bot.wechat.crypto import CallbackCredentials

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/web.db"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    config = write_config(tmp_path / "config.toml", {"database": {"url": url}})
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANXI_", "PROMETHEUS_"))}
    env.update(LANXI_CONFIG=str(config), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "web.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(base + "/healthz"):
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp_path / "gunicorn.log"
            ).read_text()
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_a_callback_is_answered_and_metrics_sum_every_worker(server: str) -> None:
    creds = CallbackCredentials(WeChatSettings.token, WeChatSettings.encoding_aes_key, WeChatSettings.app_id)
    now = int(time.time())
    xml = protocol.render_inbound_xml(
        ToUserName="gh_lanxi",
        FromUserName="oWebTier1",
        CreateTime=now,
        MsgType="text",
        Content="你好",
        MsgId=1,
    )
    args, body = protocol.build_oa_callback(
        creds, xml, mode="safe", timestamp=now, nonce=secrets.token_hex(4)
    )
    query = "&".join(f"{k}={v}" for k, v in args.items())
    request = urllib.request.Request(f"{server}/wechat/callback?{query}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = protocol.parse_message(protocol.open_reply(creds, response.read()))
    assert reply.content

    before = _healthz_count(server)
    for _ in range(30):  # spread over the workers by the kernel's accept queue
        assert _answers(f"{server}/healthz")
    assert _healthz_count(server) == before + 30


def _healthz_count(server: str) -> float:
    with urllib.request.urlopen(f"{server}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'lanxi_http_requests_total\{endpoint="health.healthz",status="200"\} ([\d.e+]+)', text)
    return float(found[1]) if found else 0.0
