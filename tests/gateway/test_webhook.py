"""The callback endpoints over the real protocol: modes, dedupe, concurrency, hostile input."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from bot.config import replace
from bot.inbound import Replies
from bot.models import InboundMessage as InboundRow
from bot.models import InboundStatus, OutboxMessage, WeChatIdentity
from bot.runtime import Runtime
from bot.webhook import oa_credentials, wecom_credentials
from bot.wechat import protocol
from bot.wechat.messages import InboundMessage
from tests.factories import make_identity
from web import create_app

VECTORS = Path("/work/shared/wechat/vectors.json")


class CountingHandler:
    """Answers "收到：<text>" and counts how often it acted; can be told to fail or to be slow."""

    def __init__(self, *, fail: bool = False, delay: float = 0.0, extra: int = 0) -> None:
        self.calls = 0
        self.fail, self.delay, self.extra = fail, delay, extra
        self._lock = threading.Lock()

    def __call__(self, db: Session, msg: InboundMessage, identity: WeChatIdentity, now: datetime) -> Replies:
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("handler bug")
        text = msg.content or msg.event or msg.msg_type
        return Replies((f"收到：{text}", *[f"补充{n}" for n in range(self.extra)]))


def install(app: Flask, handler: CountingHandler) -> CountingHandler:
    app.extensions["lanxi_handlers"] = {"official_account": handler, "wecom": handler}
    return handler


def text_xml(openid: str = "oUser1", content: str = "你好", msg_id: int = 1001, at: int | None = None) -> str:
    return protocol.render_inbound_xml(
        ToUserName="gh_lanxi",
        FromUserName=openid,
        CreateTime=at or int(time.time()),
        MsgType="text",
        Content=content,
        MsgId=msg_id,
    )


def post(
    client: FlaskClient, rt: Runtime, xml: str, mode: protocol.Mode = "safe", **overrides: str
) -> tuple[int, str]:
    args, body = protocol.build_oa_callback(
        oa_credentials(rt), xml, mode=mode, timestamp=int(time.time()), nonce=secrets.token_hex(4)
    )
    args.update(overrides)
    response = client.post("/wechat/callback", query_string=args, data=body, content_type="text/xml")
    data = response.get_data()
    if response.status_code == 200 and data not in (b"", b"success"):
        return 200, protocol.parse_message(protocol.open_reply(oa_credentials(rt), data)).content or ""
    return response.status_code, data.decode()


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_each_mode_gets_its_reply(app: Flask, client: FlaskClient, rt: Runtime, mode: protocol.Mode) -> None:
    handler = install(app, CountingHandler())
    assert post(client, rt, text_xml(content="平安"), mode) == (200, "收到：平安")
    assert handler.calls == 1


def test_safe_mode_reply_is_encrypted(app: Flask, client: FlaskClient, rt: Runtime) -> None:
    install(app, CountingHandler())
    args, body = protocol.build_oa_callback(
        oa_credentials(rt), text_xml(content="密文"), mode="safe", timestamp=int(time.time()), nonce="n1"
    )
    raw = client.post("/wechat/callback", query_string=args, data=body).get_data(as_text=True)
    assert "<Encrypt>" in raw and "密文" not in raw


def test_callbacks_neither_read_nor_set_a_session_cookie(
    app: Flask, client: FlaskClient, rt: Runtime
) -> None:
    install(app, CountingHandler())
    client.set_cookie("lanxi_session", "not-a-signed-session")
    args, body = protocol.build_oa_callback(
        oa_credentials(rt), text_xml(msg_id=6060), mode="safe", timestamp=int(time.time()), nonce="n"
    )
    response = client.post("/wechat/callback", query_string=args, data=body, content_type="text/xml")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")


def test_url_verification(client: FlaskClient, rt: Runtime) -> None:
    args = protocol.build_oa_url_check(
        oa_credentials(rt), echostr="echo123", timestamp=int(time.time()), nonce="n"
    )
    assert client.get("/wechat/callback", query_string=args).get_data(as_text=True) == "echo123"
    args["signature"] = "0" * 40
    assert client.get("/wechat/callback", query_string=args).status_code == 403
    wecom = protocol.build_wecom_url_check(
        wecom_credentials(rt), echostr="wecom-echo", timestamp=int(time.time()), nonce="n"
    )
    assert client.get("/wecom/callback", query_string=wecom).get_data(as_text=True) == "wecom-echo"


def test_retry_gets_the_same_reply_and_acts_once(
    app: Flask, client: FlaskClient, rt: Runtime, db: Session
) -> None:
    handler = install(app, CountingHandler())
    xml = text_xml(content="第一次", msg_id=555)
    first = post(client, rt, xml)
    second = post(client, rt, xml, mode="plain")
    assert first == second == (200, "收到：第一次")
    assert handler.calls == 1
    assert db.scalar(select(func.count(InboundRow.id))) == 1


def test_events_dedupe_by_sender_and_time(app: Flask, client: FlaskClient, rt: Runtime) -> None:
    handler = install(app, CountingHandler())
    xml = protocol.render_inbound_xml(
        ToUserName="gh", FromUserName="oU", CreateTime=int(time.time()), MsgType="event", Event="subscribe"
    )
    post(client, rt, xml)
    post(client, rt, xml)
    assert handler.calls == 1


def test_extra_replies_go_through_the_outbox(
    app: Flask, client: FlaskClient, rt: Runtime, db: Session
) -> None:
    install(app, CountingHandler(extra=2))
    assert post(client, rt, text_xml(msg_id=77))[1] == "收到：你好"
    rows = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.payload["text"]["content"] for r in rows] == ["补充0", "补充1"]
    assert {r.channel for r in rows} == {"oa_custom"} and rows[0].idempotency_key.startswith("reply:")


def test_a_failing_handler_stores_the_message_and_a_retry_acts_again(
    app: Flask, client: FlaskClient, rt: Runtime, db: Session
) -> None:
    install(app, CountingHandler(fail=True))
    xml = text_xml(msg_id=9090)
    with pytest.raises(RuntimeError):
        post(client, rt, xml)
    assert db.scalar(select(InboundRow.status)) == InboundStatus.FAILED
    install(app, CountingHandler())
    assert post(client, rt, xml) == (200, "收到：你好")
    db.expire_all()
    assert db.scalar(select(InboundRow.status)) == InboundStatus.PROCESSED


def test_user_message_opens_the_customer_service_window(
    app: Flask, client: FlaskClient, rt: Runtime, db: Session
) -> None:
    install(app, CountingHandler())
    post(client, rt, text_xml(openid="oWindow"))
    identity = db.scalar(select(WeChatIdentity).where(WeChatIdentity.openid == "oWindow"))
    assert identity is not None and identity.last_user_message_at is not None


def test_a_message_renews_the_window_and_other_events_leave_it(
    app: Flask, client: FlaskClient, rt: Runtime, db: Session
) -> None:
    install(app, CountingHandler())
    identity = make_identity(db, openid="oRenew", window_sends=4)
    identity.last_user_message_at = datetime.now(UTC) - timedelta(days=3)
    db.flush()
    spoke = int(time.time()) - 10
    post(client, rt, text_xml(openid="oRenew", msg_id=8080, at=spoke))
    db.refresh(identity)
    assert identity.window_sends == 0
    assert identity.last_user_message_at == datetime.fromtimestamp(spoke, UTC)
    identity.window_sends = 2
    db.flush()
    report = protocol.render_inbound_xml(
        ToUserName="gh",
        FromUserName="oRenew",
        CreateTime=int(time.time()),
        MsgType="event",
        Event="TEMPLATESENDJOBFINISH",
        Status="success",
    )
    post(client, rt, report)
    db.refresh(identity)
    assert identity.window_sends == 2
    assert identity.last_user_message_at == datetime.fromtimestamp(spoke, UTC)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("bad_signature", 403),
        ("missing_signature", 403),
        ("stale_timestamp", 403),
        ("oversized", 413),
        ("malformed", 400),
        ("doctype", 400),
        ("missing_msgtype", 400),
        ("wrong_appid", 400),
    ],
)
def test_hostile_input_gets_a_clear_4xx(
    app: Flask, client: FlaskClient, rt: Runtime, case: str, status: int
) -> None:
    handler = install(app, CountingHandler())
    creds = oa_credentials(rt)
    now = int(time.time())
    xml = text_xml()
    if case == "malformed":
        xml = "<xml><ToUserName>broken"
    elif case == "doctype":
        xml = '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><ToUserName>&a;</ToUserName></xml>'
    elif case == "missing_msgtype":
        xml = protocol.render_inbound_xml(ToUserName="gh", FromUserName="o", CreateTime=now, Content="x")
    elif case == "oversized":
        xml = text_xml(content="长" * 30_000)
    if case == "wrong_appid":
        creds = protocol.CallbackCredentials(
            token=creds.token, encoding_aes_key=creds.encoding_aes_key, app_id="wxsomebodyelse0001"
        )
    timestamp = now - 3600 if case == "stale_timestamp" else now
    args, body = protocol.build_oa_callback(
        creds,
        xml,
        mode="plain" if case in ("malformed", "doctype", "missing_msgtype") else "safe",
        timestamp=timestamp,
        nonce="nn",
    )
    if case == "bad_signature":
        args["signature"] = "f" * 40
        args["msg_signature"] = "f" * 40
    if case == "missing_signature":
        args = {k: v for k, v in args.items() if "signature" not in k}
    response = client.post("/wechat/callback", query_string=args, data=body)
    assert response.status_code == status
    assert handler.calls == 0


def test_official_wecom_vector_message(app: Flask, rt: Runtime) -> None:
    import json

    vector = json.loads(VECTORS.read_text())["wecom_verify_and_decrypt"]
    settings = replace(
        rt.settings,
        wecom={
            "token": vector["token"],
            "encoding_aes_key": vector["encoding_aes_key"],
            "corp_id": vector["corp_id"],
        },
        wechat={"max_clock_skew": 0},
    )
    vector_app = create_app(runtime=Runtime(settings, rt.engine, rt.sessions))
    handler = install(vector_app, CountingHandler())
    msg = vector["message"]
    args = {k: msg[k] for k in ("msg_signature", "timestamp", "nonce")}
    response = vector_app.test_client().post("/wecom/callback", query_string=args, data=msg["body"])
    assert response.status_code == 200 and handler.calls == 1


def test_database_down_answers_503(rt: Runtime) -> None:
    down = replace(rt.settings, database={"url": "postgresql://postgres@127.0.0.1:1/none"})
    app = create_app(down)
    install(app, CountingHandler())
    status, _ = post(app.test_client(), rt, text_xml())
    assert status == 503


@pytest.fixture()
def live(committing_rt: Runtime) -> Iterator[tuple[str, CountingHandler]]:
    app = create_app(runtime=committing_rt)
    handler = install(app, CountingHandler(delay=0.3))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()


def test_two_retries_at_once_act_once(live: tuple[str, CountingHandler], committing_rt: Runtime) -> None:
    import requests

    url, handler = live
    args, body = protocol.build_oa_callback(
        oa_credentials(committing_rt),
        text_xml(msg_id=4242),
        mode="safe",
        timestamp=int(time.time()),
        nonce="same",
    )
    replies: list[str] = []

    def deliver() -> None:
        response = requests.post(f"{url}/wechat/callback", params=args, data=body, timeout=10)
        replies.append(
            protocol.parse_message(
                protocol.open_reply(oa_credentials(committing_rt), response.content)
            ).content
            or ""
        )

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert handler.calls == 1
    assert replies == ["收到：你好"] * 3


def test_callbacks_are_counted_in_metrics(app: Flask, client: FlaskClient, rt: Runtime) -> None:
    install(app, CountingHandler())
    post(client, rt, text_xml(msg_id=31337))
    client.post(
        "/wechat/callback", query_string={"signature": "x", "timestamp": "1", "nonce": "n"}, data=b"<xml/>"
    )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'lanxi_callbacks_total{endpoint="wechat",result="200"}' in body
    assert 'lanxi_callbacks_total{endpoint="wechat",result="403"}' in body
