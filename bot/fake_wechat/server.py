"""The fake's Flask app, a threaded server for tests and scripts, and the `lanxi fake-wechat` entry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .control import create_control_blueprint
from .dispatch import make_view
from .endpoints import ALL
from .state import DEFAULT_AGENT_ID, FakeWeChatState

if TYPE_CHECKING:
    from bot.config import Settings

DEFAULT_PORT = 8808
DEFAULT_APP_ID = "wxfake0lanxi00demo"
DEFAULT_APP_SECRET = "fake-app-secret-lanxi-demo-0000"  # noqa: S105 - the fake's demo credential
DEFAULT_CORP_ID = "wwfake0lanxi00demo"
DEFAULT_CORP_SECRET = "fake-corp-secret-lanxi-demo-000"  # noqa: S105 - the fake's demo credential


def create_fake_wechat_app(state: FakeWeChatState | None = None) -> Flask:
    """One app for the paths of api.weixin.qq.com, qyapi.weixin.qq.com, open.weixin.qq.com and `/_fake/`."""
    state = state or FakeWeChatState()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024  # above WeChat's largest upload (20 MB files)
    for endpoint in ALL:
        view = make_view(state, endpoint)
        app.add_url_rule(endpoint.path, view.__name__, view, methods=list(endpoint.methods))
    app.register_blueprint(create_control_blueprint(state))
    app.extensions["fake_wechat_state"] = state
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests and benchmarks make thousands of calls; `calls()` already records them."""


class FakeWeChatServer:
    """Runs the fake on a real socket in a daemon thread: `with FakeWeChatServer() as fake: fake.url`."""

    def __init__(
        self, state: FakeWeChatState | None = None, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
    ) -> None:
        self.state = state or FakeWeChatState()
        self._host, self._port, self._quiet = host, port, quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeWeChatServer is not running")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> FakeWeChatServer:
        if self._server is not None:
            return self
        handler = _QuietHandler if self._quiet else WSGIRequestHandler
        app = create_fake_wechat_app(self.state)
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=handler)
        # A short poll interval keeps stop() fast; each test may start its own server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-wechat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.state.release_hung()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def build_state(
    appid: str = DEFAULT_APP_ID,
    secret: str = DEFAULT_APP_SECRET,
    corpid: str = DEFAULT_CORP_ID,
    corpsecret: str = DEFAULT_CORP_SECRET,
    agentid: int = DEFAULT_AGENT_ID,
    robot_keys: tuple[str, ...] = (),
    template_ids: tuple[str, ...] = (),
    robot_registry: Callable[[str], bool] | None = None,
) -> FakeWeChatState:
    state = FakeWeChatState(robot_registry=robot_registry)
    state.register_app(appid, secret)
    state.register_corp(corpid, corpsecret, agentid)
    for key in robot_keys:
        state.register_robot(key)
    for template_id in template_ids:
        state.register_template(template_id)
    return state


def configured_state(
    settings: Settings, robot_registry: Callable[[str], bool] | None = None
) -> FakeWeChatState:
    """The fake knowing the configured app, corp and message templates; group robots are the
    caller's to register, or ``robot_registry``'s to recognise."""
    return build_state(
        appid=settings.wechat.app_id,
        secret=settings.wechat.app_secret,
        corpid=settings.wecom.corp_id,
        corpsecret=settings.wecom.secret,
        agentid=settings.wecom.agent_id,
        template_ids=(settings.wechat.checkin_template_id, settings.tips.verdict_template_id),
        robot_registry=robot_registry,
    )


def main(state: FakeWeChatState, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serves the fake until interrupted (what `lanxi fake-wechat` runs)."""
    server = make_server(host, port, create_fake_wechat_app(state), threaded=True)
    apps, corps = ", ".join(state.apps), ", ".join(state.corps)
    print(f"fake WeChat on http://{host}:{server.server_port} (appid {apps}, corpid {corps})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
