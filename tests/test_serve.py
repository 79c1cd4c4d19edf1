"""`lanxi serve` as an operator runs it: one process, panel + callbacks + stand-in + delivery + scheduler."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.config import load_settings, replace
from bot.simulator import Simulator

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_whole_system(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/serve.db"\n', encoding="utf-8")
    lanxi = [sys.executable, "-m", "web.cli", "--config", str(config)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run([*lanxi, "db", "upgrade"], check=True, capture_output=True, env=env, timeout=60)
    port = free_port()
    proc = subprocess.Popen(
        [*lanxi, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("lanxi serve did not answer /healthz")
        settings = replace(load_settings(config, env={}), web={"public_base_url": base}).resolved()
        sim = Simulator(settings)
        openid = sim.new_follower()
        assert "辟谣" in sim.text(openid, "举报")
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "serving on" in output
