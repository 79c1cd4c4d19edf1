"""Callbacks while the database is away: 503 so WeChat retries; once it is back, each retry acts once."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot import db as bot_db
from bot.models import InboundMessage as InboundRow
from bot.models import InboundStatus, OutboxMessage
from bot.runtime import Runtime
from bot.webhook import oa_credentials
from bot.wechat import protocol
from tests.gateway.test_webhook import CountingHandler, install, text_xml
from web import create_app

from .outages import database_down

MESSAGES = 5


@pytest.fixture()
def server(committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, CountingHandler]]:
    """A real HTTP server over the committing runtime; SQLite gives up on a lock in 0.3 s, not 15."""
    monkeypatch.setattr(bot_db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    committing_rt.engine.dispose()
    app = create_app(runtime=committing_rt)
    handler = install(app, CountingHandler(extra=1))  # one passive reply and one outbox row each
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/wechat/callback", handler
    httpd.shutdown()
    thread.join(5)


def signed(rt: Runtime, n: int) -> tuple[dict[str, str], bytes]:
    xml = text_xml(openid=f"oDown{n}", content=f"平安{n}", msg_id=70_000 + n)
    return protocol.build_oa_callback(
        oa_credentials(rt), xml, mode="safe", timestamp=int(time.time()), nonce=secrets.token_hex(4)
    )


def send(url: str, rt: Runtime, message: tuple[dict[str, str], bytes]) -> tuple[int, str]:
    response = requests.post(url, params=message[0], data=message[1], timeout=10)
    if response.status_code != 200:
        return response.status_code, response.text
    return 200, protocol.parse_message(
        protocol.open_reply(oa_credentials(rt), response.content)
    ).content or ""


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.session() as db:
        return (
            db.scalar(select(func.count(InboundRow.id))) or 0,
            db.scalar(select(func.count(InboundRow.id)).where(InboundRow.status == InboundStatus.PROCESSED))
            or 0,
            db.scalar(select(func.count(OutboxMessage.id))) or 0,
        )


def test_callbacks_get_503_while_the_database_is_down_and_act_once_when_it_is_back(
    server: tuple[str, CountingHandler], committing_rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    url, handler = server
    messages = [signed(committing_rt, n) for n in range(MESSAGES)]
    with database_down(committing_rt):
        during = [send(url, committing_rt, m) for m in messages]
    assert during == [(503, "database unavailable")] * MESSAGES
    assert handler.calls == 0
    assert "WeChat will retry" in caplog.text
    assert counts(committing_rt) == (0, 0, 0)  # nothing half-stored
    # WeChat retries the same messages (same MsgId), twice over: each acts once, the reply is the same.
    for _ in range(2):
        after = [send(url, committing_rt, m) for m in messages]
        assert after == [(200, f"收到：平安{n}") for n in range(MESSAGES)]
    assert handler.calls == MESSAGES
    assert counts(committing_rt) == (MESSAGES, MESSAGES, MESSAGES)
