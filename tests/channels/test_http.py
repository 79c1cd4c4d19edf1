"""The HTTP layer: masking credentials, reading answers, capping downloads, proxies from the environment."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.channels.base import DeliveryError
from bot.channels.http import (
    ScrubFilter,
    WeChatHttp,
    _read_capped,
    install_log_scrubber,
    make_session,
    parse_answer,
    scrub,
)
from bot.fake_wechat import FakeWeChatServer
from bot.fake_wechat.server import build_state


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/cgi-bin/x?access_token=AbC-_123&openid=o1", "/cgi-bin/x?access_token=***&openid=o1"),
        ("gettoken?corpid=ww1&corpsecret=s3cr3t", "gettoken?corpid=ww1&corpsecret=***"),
        ("token?appid=wx1&secret=s3cr3t HTTP/1.1", "token?appid=wx1&secret=*** HTTP/1.1"),
        ('webhook/send?key=693a-91f6 "POST"', 'webhook/send?key=*** "POST"'),
        ("?code=abc&state=s", "?code=***&state=s"),
        ("monkey=1&errcode=40001", "monkey=1&errcode=40001"),  # only whole parameter names
    ],
)
def test_scrub_masks_credential_parameters(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_scrub_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool",
        logging.DEBUG,
        __file__,
        1,
        '"%s %s"',
        ("GET", "/a?access_token=T0KEN"),
        None,
    )
    assert ScrubFilter().filter(record)
    assert record.getMessage() == '"GET /a?access_token=***"'


def test_install_log_scrubber_is_idempotent() -> None:
    install_log_scrubber()
    install_log_scrubber()
    filters = logging.getLogger("urllib3.connectionpool").filters
    assert sum(isinstance(f, ScrubFilter) for f in filters) == 1


def test_parse_answer() -> None:
    assert parse_answer(b'{"errcode": 0, "msgid": 7}', "POST /x") == {"errcode": 0, "msgid": 7}
    assert parse_answer(b'{"openid": "o1"}', "GET /x") == {"openid": "o1"}  # no errcode on success
    with pytest.raises(DeliveryError) as refused:
        parse_answer(b'{"errcode": "43004", "errmsg": "require subscribe"}', "POST /x")
    assert (refused.value.errcode, refused.value.transient) == (43004, False)
    with pytest.raises(DeliveryError) as garbled:
        parse_answer(b"<html>gateway</html>", "POST /x")
    assert garbled.value.transient and garbled.value.errcode is None


def test_errmsg_is_scrubbed() -> None:
    with pytest.raises(DeliveryError) as caught:
        parse_answer(b'{"errcode": 40001, "errmsg": "bad url ?access_token=SECRET1"}', "POST /x")
    assert "SECRET1" not in str(caught.value)


def streamed(data: bytes, declared: int | None = None) -> requests.Response:
    response = requests.Response()
    response.raw = io.BytesIO(data)
    if declared is not None:
        response.headers["Content-Length"] = str(declared)
    return response


def test_read_capped_stops_a_stream_without_a_length_once_over() -> None:
    assert _read_capped(streamed(b"x" * 100), 100, "GET /m") == b"x" * 100
    with pytest.raises(DeliveryError, match="100 字节上限"):
        _read_capped(streamed(b"x" * 200_000), 100, "GET /m")
    with pytest.raises(DeliveryError, match="100 字节上限"):
        _read_capped(streamed(b"", declared=101), 100, "GET /m")  # refused before reading


class _RecordingProxy(BaseHTTPRequestHandler):
    """An HTTP proxy that answers every request itself, remembering the absolute URL it was asked for."""

    seen: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(self.path)
        body = b'{"errcode": 0, "via": "proxy"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_RecordingProxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_the_environment_proxy_settings_hold_per_host_on_every_call(
    proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    http = WeChatHttp(2.0, make_session())
    with FakeWeChatServer(build_state()) as fake:
        for _ in range(2):  # the second call of each kind is answered from what the first one read
            assert http.call("POST", "http://api.weixin.invalid/cgi-bin/x", body={}) == {
                "errcode": 0,
                "via": "proxy",
            }
            with pytest.raises(DeliveryError) as direct:  # reached the fake itself, not the proxy
                http.call("POST", f"{fake.url}/cgi-bin/message/template/send", params={"access_token": "t"})
            assert direct.value.errcode == 40014  # the fake: "invalid access_token"
    assert seen == ["http://api.weixin.invalid/cgi-bin/x"] * 2
    http.close()
