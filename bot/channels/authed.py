"""Calls to APIs that take ``?access_token=``: the store's token, and one bounded retry when it is rejected.

wechatpy retries token errors without bound; here a rejected token (40001/40014/42001) is refreshed
once, passing the rejected value so that concurrent callers share one fetch, and the call is retried
once. A second rejection ends as a transient DeliveryError: the outbox retries later with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.channels.base import TOKEN_ERRCODES, DeliveryError
from bot.channels.http import WeChatHttp
from bot.channels.tokens import TokenStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class AuthedApi:
    """One WeChat app's API (``base_url`` is scheme and host) called with the token stored under ``key``."""

    def __init__(self, tokens: TokenStore, key: str, base_url: str) -> None:
        self.tokens = tokens
        self.key = key
        self.base_url = base_url.rstrip("/")

    @property
    def http(self) -> WeChatHttp:
        return self.tokens.http

    def url(self, path: str) -> str:
        return self.base_url + path

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``method path`` with the token added to ``params``; WeChat's answer or a DeliveryError."""
        url, fixed = self.url(path), dict(params or {})
        return self.with_token(
            lambda token: self.http.call(method, url, params={**fixed, "access_token": token}, body=body)
        )

    def with_token(self, attempt: Callable[[str], T]) -> T:
        """``attempt(token)``, and once more with a refreshed token if WeChat rejected the first."""
        token = self.tokens.get(self.key)
        try:
            return attempt(token)
        except DeliveryError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            log.info("access token for %s rejected (errcode %s); refreshing once", self.key, exc.errcode)
        fresh = self.tokens.refresh(self.key, token)
        try:
            return attempt(fresh)
        except DeliveryError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            raise DeliveryError(
                f"access_token 刷新后仍被拒绝（errcode {exc.errcode}）", errcode=exc.errcode, transient=True
            ) from None
