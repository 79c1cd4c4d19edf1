"""The one place access tokens are fetched: shared through the database, refreshed single-flight.

``get(key)`` answers from memory, else from the ``access_tokens`` row, and fetches only when neither
holds a token with time to spare. ``refresh(key, stale)`` is what a caller does after WeChat rejected
``stale``: under an in-process lock per key AND a database lock on the row (PostgreSQL: ``SELECT ...
FOR UPDATE`` after ``INSERT ... ON CONFLICT DO NOTHING``; SQLite: ``BEGIN IMMEDIATE``) it re-reads the
row, takes the token another thread or process already put there, and fetches only if the row still
holds ``stale``. The fetch happens while the row is locked: that is the point, the other processes
wait for the new token instead of fetching their own (WeChat's answer takes at most the HTTP timeout).

Official Account tokens come from ``POST /cgi-bin/stable_token`` (the same token for every caller,
which suits several workers; never ``force_refresh``, whose quota is 20 a day): if WeChat hands back
the token that was just rejected, it still considers it valid, and the caller's single retry decides.
WeCom tokens come from ``GET /cgi-bin/gettoken``. Every fetch adds one to ``fetch_count``.

A process refreshes a rejected token at most once per ``stale_cooldown`` seconds per key, so a server
stuck on 40001 costs one fetch per cooldown, not one per message. Tokens are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.channels.base import TOKEN_ERRCODES, DeliveryError
from bot.channels.http import WeChatHttp, make_session
from bot.config import Settings
from bot.db import begin_immediate
from bot.models.base import utcnow
from bot.models.wechat import AccessToken
from bot.runtime import Runtime

log = logging.getLogger(__name__)

MARGIN = timedelta(minutes=5)
STALE_COOLDOWN_SECONDS = 30.0
DEFAULT_EXPIRES_IN = 7200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def oa_key(appid: str) -> str:
    return f"oa:{appid}"


def wecom_key(corpid: str, agentid: int) -> str:
    return f"wecom:{corpid}:{agentid}"


@dataclass(frozen=True)
class Fetched:
    token: str
    expires_in: int


class TokenSource(Protocol):
    def fetch(self, http: WeChatHttp) -> Fetched: ...


def _fetched(answer: Mapping[str, Any]) -> Fetched:
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise DeliveryError("微信未返回 access_token", transient=True)
    expires_in = answer.get("expires_in", DEFAULT_EXPIRES_IN)
    return Fetched(token, int(expires_in) if isinstance(expires_in, int | str) else DEFAULT_EXPIRES_IN)


def _credential_error(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A token endpoint answering 40001 & co. means a wrong secret: permanent, unlike a rejected token."""
    try:
        return call()
    except DeliveryError as exc:
        if exc.errcode in TOKEN_ERRCODES:
            raise DeliveryError(
                f"获取 access_token 失败（errcode {exc.errcode}）：请检查 AppSecret / CorpSecret 配置",
                transient=False,
            ) from None
        raise


@dataclass(frozen=True)
class StableTokenSource:
    """Official Account: ``POST /cgi-bin/stable_token`` (not in wechatpy 1.8.18)."""

    api_base_url: str
    appid: str
    secret: str

    def fetch(self, http: WeChatHttp) -> Fetched:
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        url = self.api_base_url.rstrip("/") + "/cgi-bin/stable_token"
        return _fetched(_credential_error(lambda: http.call("POST", url, body=body)))


@dataclass(frozen=True)
class WeComTokenSource:
    """WeCom app: ``GET /cgi-bin/gettoken`` (the same token again while it is valid)."""

    api_base_url: str
    corpid: str
    secret: str

    def fetch(self, http: WeChatHttp) -> Fetched:
        params = {"corpid": self.corpid, "corpsecret": self.secret}
        url = self.api_base_url.rstrip("/") + "/cgi-bin/gettoken"
        return _fetched(_credential_error(lambda: http.call("GET", url, params=params)))


def sources_from_settings(settings: Settings) -> dict[str, TokenSource]:
    wechat, wecom = settings.wechat, settings.wecom
    return {
        oa_key(wechat.app_id): StableTokenSource(wechat.api_base_url, wechat.app_id, wechat.app_secret),
        wecom_key(wecom.corp_id, wecom.agent_id): WeComTokenSource(
            wecom.api_base_url, wecom.corp_id, wecom.secret
        ),
    }


@dataclass(frozen=True)
class _Held:
    """A token as stored: its value and lifetime."""

    token: str
    expires_at: datetime
    fetched_at: datetime

    @classmethod
    def of(cls, row: AccessToken | None) -> _Held | None:
        return None if row is None else cls(row.token, row.expires_at, row.fetched_at)


def _insert_placeholder(db: Session, key: str) -> None:
    """Makes sure the row exists, so that there is something to lock (a no-op if it does)."""
    values = {"key": key, "token": "", "expires_at": _EPOCH, "fetched_at": _EPOCH, "fetch_count": 0}
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(postgresql.insert(AccessToken).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db.execute(sqlite.insert(AccessToken).values(**values).on_conflict_do_nothing())
    else:
        raise NotImplementedError(f"token store: unsupported database {dialect}")


def lock_row(db: Session, key: str) -> AccessToken:
    """The key's row, locked until ``db`` commits: FOR UPDATE on PostgreSQL, the write lock on SQLite."""
    begin_immediate(db)
    _insert_placeholder(db, key)
    return db.scalars(select(AccessToken).where(AccessToken.key == key).with_for_update()).one()


class TokenStore:
    """Access tokens by key (``oa:<appid>``, ``wecom:<corpid>:<agentid>``); safe from any thread."""

    def __init__(
        self,
        rt: Runtime,
        http: WeChatHttp | None = None,
        sources: Mapping[str, TokenSource] | None = None,
        *,
        margin: timedelta = MARGIN,
        stale_cooldown: float = STALE_COOLDOWN_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._rt = rt
        settings = rt.settings.resolved()  # "embedded" base URLs become the in-process stand-in's
        self.http = http or WeChatHttp(
            settings.wechat.http_timeout, make_session(pool_size=2 * settings.delivery.concurrency)
        )
        self._sources = dict(sources if sources is not None else sources_from_settings(settings))
        self._margin = margin
        self._stale_cooldown = stale_cooldown
        self._clock = clock
        self._cache: dict[str, _Held] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._stale_refreshed_at: dict[str, float] = {}

    def get(self, key: str) -> str:
        """A token valid for a while yet: from memory, else the database, else freshly fetched."""
        held = self._cache.get(key)
        if held is not None and self._usable(held):
            return held.token
        return self.refresh(key, None)

    def refresh(self, key: str, stale: str | None) -> str:
        """A token other than ``stale`` (the one WeChat just rejected), fetching only if nobody has."""
        self._source(key)  # an unknown key is a programming error: fail before touching the database
        with self._lock_for(key):
            held = self._replacement(key, stale)
            if held is None:
                if stale is not None and self._cooling_down(key):
                    log.warning(
                        "access token for %s rejected again right after a refresh; not refetching", key
                    )
                    return stale
                held = self._refresh_locked(key, stale)
            self._cache[key] = held
            return held.token

    def close(self) -> None:
        """Closes the HTTP session's pooled connections (the store stays usable; it reconnects)."""
        self.http.close()

    def fetch_count(self, key: str) -> int:
        """How many times the token for ``key`` was fetched from WeChat, by any process."""
        with self._rt.session() as db:
            row = db.get(AccessToken, key)
            return 0 if row is None else row.fetch_count

    # -- internals ------------------------------------------------------------------------------------
    def _source(self, key: str) -> TokenSource:
        try:
            return self._sources[key]
        except KeyError:
            raise KeyError(f"no access-token source configured for {key!r}") from None

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _usable(self, held: _Held) -> bool:
        """Valid for longer than the margin; a token handed out with little life left (stable_token near
        its end) counts as usable for half that life, so that it is not fetched again on every call."""
        threshold = min(self._margin, (held.expires_at - held.fetched_at) / 2)
        return bool(held.token) and held.expires_at - self._clock() > threshold

    def _replaces(self, held: _Held | None, stale: str | None) -> bool:
        return held is not None and held.token != stale and self._usable(held)

    def _replacement(self, key: str, stale: str | None) -> _Held | None:
        """A usable token other than ``stale`` that this process or another already holds."""
        held = self._cache.get(key)
        if self._replaces(held, stale):
            return held
        with self._rt.session() as db:
            held = _Held.of(db.get(AccessToken, key))
        return held if self._replaces(held, stale) else None

    def _cooling_down(self, key: str) -> bool:
        last = self._stale_refreshed_at.get(key)
        return last is not None and time.monotonic() - last < self._stale_cooldown

    def _refresh_locked(self, key: str, stale: str | None) -> _Held:
        with self._rt.session() as db:
            row = lock_row(db, key)
            held = _Held(row.token, row.expires_at, row.fetched_at)
            if self._replaces(held, stale):
                return held  # another process refreshed while this one waited for the lock
            fetched = self._source(key).fetch(self.http)
            now = self._clock()
            row.token, row.fetched_at = fetched.token, now
            row.expires_at = now + timedelta(seconds=fetched.expires_in)
            row.fetch_count += 1
            count = row.fetch_count
        if stale is not None:
            self._stale_refreshed_at[key] = time.monotonic()
        log.info("access token for %s fetched (fetch #%d, valid %d s)", key, count, fetched.expires_in)
        return _Held(fetched.token, now + timedelta(seconds=fetched.expires_in), now)
