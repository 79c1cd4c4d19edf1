"""The one-process server of `lanxi serve` and `lanxi demo`: panel, callbacks, delivery, scheduler.

In embedded mode the local WeChat stand-in is mounted under /fake-wechat of the same server,
so the demo runs the real protocol end to end with nothing else to start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bot.config import FAKE_WECHAT_PATH, Settings
from bot.delivery.setup import start_delivery
from bot.runtime import Runtime
from bot.scheduler import SingleScheduler
from web import create_app

log = logging.getLogger(__name__)


def build_wsgi(rt: Runtime, raw_settings: Settings) -> Callable[..., Any]:
    app = create_app(runtime=rt)
    if not raw_settings.uses_embedded_fake:
        return app
    from bot.fake_wechat import configured_state, create_fake_wechat_app

    state = configured_state(rt.settings, robot_registry=_robot_registry(rt))
    app.extensions["fake_wechat_state"] = state
    return DispatcherMiddleware(app, {FAKE_WECHAT_PATH: create_fake_wechat_app(state)})


def _robot_registry(rt: Runtime) -> Callable[[str], bool]:
    """The groups' robots exist at the stand-in, as they would at WeCom: also a group staff add later."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from bot.models import GroupKind, WeChatGroup

    def known(key: str) -> bool:
        try:
            with rt.session() as db:  # keys are encrypted at rest: compare after decryption
                keys = db.scalars(
                    select(WeChatGroup.webhook_key).where(WeChatGroup.kind == GroupKind.WECOM_ROBOT)
                )
                return key in set(keys)
        except SQLAlchemyError:  # not migrated yet: no groups
            return False

    return known


def serve(raw_settings: Settings, host: str, port: int, rt: Runtime | None = None) -> None:
    from waitress import serve as waitress_serve

    rt = rt or Runtime.from_settings(raw_settings)
    wsgi = build_wsgi(rt, raw_settings)
    stop_delivery = start_delivery(rt)
    scheduler = SingleScheduler(rt)
    scheduler.start_background()
    try:
        waitress_serve(wsgi, host=host, port=port, threads=8, ident="lanxi")
    finally:
        scheduler.stop()
        stop_delivery()
