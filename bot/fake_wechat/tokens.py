"""Access tokens as WeChat issues and judges them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .errors import WeChatError
from .records import Caller

# Real tokens are long runs of letters, digits, '_' and '-'; anything else is malformed (40014).
_WELL_FORMED = re.compile(r"[A-Za-z0-9_\-]{32,512}")

# Token families. /cgi-bin/token and /cgi-bin/stable_token are isolated from each other on WeChat's side.
OA = "oa"
STABLE = "stable"
WECOM = "wecom"


@dataclass
class Token:
    value: str
    caller: Caller
    family: str
    issued_at: float
    expires_at: float
    superseded_until: float | None = None

    def remaining(self, now: float) -> float:
        end = self.expires_at
        if self.superseded_until is not None:
            end = min(end, self.superseded_until)
        return end - now


class TokenBook:
    def __init__(self, ttl: float, grace: float) -> None:
        self.ttl = ttl
        self.grace = grace
        self._tokens: dict[str, Token] = {}
        self._current: dict[tuple[str, str], Token] = {}

    def issue(self, caller: Caller, family: str, now: float) -> Token:
        """A fresh token; the previous one of the same family keeps working for `grace` seconds."""
        key = (self._key(caller), family)
        previous = self._current.get(key)
        if previous is not None and previous.superseded_until is None:
            previous.superseded_until = now + self.grace
        token = Token(secrets.token_urlsafe(96), caller, family, now, now + self.ttl)
        self._tokens[token.value] = token
        self._current[key] = token
        return token

    def current(self, caller: Caller, family: str, now: float) -> Token | None:
        token = self._current.get((self._key(caller), family))
        return token if token is not None and token.remaining(now) > 0 else None

    def check(self, value: str | None, kinds: tuple[str, ...], now: float) -> Caller:
        """The caller a token stands for, or WeChat's error for it."""
        if not value:
            raise WeChatError(41001)
        token = self._tokens.get(value)
        if token is None:
            raise WeChatError(40001 if _WELL_FORMED.fullmatch(value) else 40014)
        if token.caller.kind not in kinds:
            raise WeChatError(40001)  # e.g. a WeCom token sent to api.weixin.qq.com: unknown there
        if now >= token.expires_at:
            raise WeChatError(42001)
        if token.superseded_until is not None and now >= token.superseded_until:
            raise WeChatError(40001)
        return token.caller

    def invalidate_all(self) -> None:
        """Forget every token, as after a secret reset: clients get 40001 and must fetch again."""
        self._tokens.clear()
        self._current.clear()

    @staticmethod
    def _key(caller: Caller) -> str:
        return f"{caller.owner}/{caller.agentid}"
