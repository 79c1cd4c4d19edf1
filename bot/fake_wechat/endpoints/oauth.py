"""WeChat web authorization (snsapi_base / snsapi_userinfo) as seen from the phone and from the server.

The simulated user is named by the `fake_openid` query parameter, else by a `fake_openid` cookie
(the simulator sets it for the host it serves the fake on).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import WeChatError
from ..protocol import Endpoint, Raw, Redirect, Req, Result, param
from ..records import OAuthCode
from ..state import FakeWeChatState
from .tokens import check_app

USER_PARAM = USER_COOKIE = "fake_openid"
SCOPES = frozenset({"snsapi_base", "snsapi_userinfo"})
_OUTSIDE_WECHAT = "<html><body><p>请在微信客户端打开链接</p></body></html>"


def _page_error(errcode: int, detail: str | None = None) -> Raw:
    """WeChat shows an error page in the in-app browser; the fake answers 400 with WeChat's JSON."""
    body = WeChatError(errcode, detail).body()
    return Raw(json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8", 400)


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def authorize(state: FakeWeChatState, req: Req) -> Result:
    appid, redirect_uri, scope = (req.params.get(k, "") for k in ("appid", "redirect_uri", "scope"))
    if appid not in state.apps:
        return _page_error(40013)
    if not redirect_uri:
        return _page_error(10011, "redirect_uri missing")
    if req.params.get("response_type") != "code" or scope not in SCOPES:
        return _page_error(10005, "scope unauthorized")
    openid = req.params.get(USER_PARAM) or req.cookies.get(USER_COOKIE)
    if not openid:
        return Raw(_OUTSIDE_WECHAT.encode(), "text/html; charset=utf-8", 400)
    code = secrets.token_urlsafe(24)
    state.oauth_codes[code] = OAuthCode(code, appid, openid, scope, state.now() + state.limits.oauth_code_ttl)
    return Redirect(_with_query(redirect_uri, {"code": code, "state": req.params.get("state", "")}))


def exchange_code(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    """Code -> openid, once; the answer carries no errcode on success, like WeChat's."""
    if req.params.get("grant_type") != "authorization_code":
        raise WeChatError(40002)
    appid = param(req, "appid", 41002)
    check_app(state, appid, param(req, "secret", 41004))
    grant = state.oauth_codes.get(param(req, "code", 41008))
    if grant is None or grant.appid != appid or grant.expires_at <= state.now():
        raise WeChatError(40029)
    if grant.used:
        raise WeChatError(40163)
    grant.used = True
    return {
        "access_token": secrets.token_urlsafe(64),
        "expires_in": 7200,
        "refresh_token": secrets.token_urlsafe(64),
        "openid": grant.openid,
        "scope": grant.scope,
    }


ENDPOINTS = (
    Endpoint("/connect/oauth2/authorize", ("GET",), authorize),
    Endpoint("/sns/oauth2/access_token", ("GET",), exchange_code),
)
