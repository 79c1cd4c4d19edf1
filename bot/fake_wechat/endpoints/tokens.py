"""GET /cgi-bin/token, POST /cgi-bin/stable_token (Official Account) and GET /cgi-bin/gettoken (WeCom)."""

from __future__ import annotations

from typing import Any

from ..errors import WeChatError, ok
from ..protocol import Endpoint, Req, param
from ..records import Caller
from ..state import FakeWeChatState
from ..tokens import OA, STABLE, WECOM, Token


def check_app(state: FakeWeChatState, appid: str, secret: str) -> None:
    if appid not in state.apps:
        raise WeChatError(40013)
    if state.apps[appid] != secret:
        raise WeChatError(40125)


def _issued(token: Token, now: float) -> dict[str, Any]:
    return {"access_token": token.value, "expires_in": int(token.remaining(now))}


def get_token(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    if req.params.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    appid, secret = param(req, "appid", 41002), param(req, "secret", 41004)
    check_app(state, appid, secret)
    now = state.now()
    if not state.quotas.token.try_take(appid, now):
        raise WeChatError(45009, "reach max api daily quota limit")
    state.count_fetch("/cgi-bin/token", appid)
    return _issued(state.tokens.issue(Caller("oa", appid), OA, now), now)


def stable_token(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    """Same token for every caller while it has more than the grace period left; isolated from /token."""
    body = req.body()
    if body.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    appid, secret = str(body.get("appid") or ""), str(body.get("secret") or "")
    if not appid:
        raise WeChatError(41002)
    if not secret:
        raise WeChatError(41004)
    check_app(state, appid, secret)
    now, caller = state.now(), Caller("oa", appid)
    current = state.tokens.current(caller, STABLE, now)
    if body.get("force_refresh") is True:
        if not state.quotas.stable_force.try_take(appid, now):
            raise WeChatError(45009, "reach max api daily quota limit")
        current = None
    if current is None or current.remaining(now) <= state.limits.token_grace:
        current = state.tokens.issue(caller, STABLE, now)
    state.count_fetch("/cgi-bin/stable_token", appid)
    return _issued(current, now)


def get_wecom_token(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    """WeCom hands out the same token again while it is valid."""
    corpid, secret = param(req, "corpid", 41002), param(req, "corpsecret", 41004)
    corp = state.corps.get(corpid)
    if corp is None:
        raise WeChatError(40013, "invalid corpid")
    if secret not in corp.secrets:
        raise WeChatError(40001, "invalid credential: corpsecret")
    now, caller = state.now(), Caller("wecom", corpid, corp.secrets[secret])
    token = state.tokens.current(caller, WECOM, now) or state.tokens.issue(caller, WECOM, now)
    state.count_fetch("/cgi-bin/gettoken", corpid)
    return ok(**_issued(token, now))


ENDPOINTS = (
    Endpoint("/cgi-bin/token", ("GET",), get_token),
    Endpoint("/cgi-bin/stable_token", ("POST",), stable_token),
    Endpoint("/cgi-bin/gettoken", ("GET",), get_wecom_token),
)
