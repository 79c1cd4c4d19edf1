"""Send a `requests.Session`'s WeChat traffic to the fake (wechatpy hard-codes the token URL)."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

WECHAT_HOSTS = (
    "https://api.weixin.qq.com",
    "https://qyapi.weixin.qq.com",
    "https://open.weixin.qq.com",
    "https://mp.weixin.qq.com",
)


class RedirectAdapter(HTTPAdapter):
    """Rewrites `https://<wechat host>/path` to `<fake url>/path` just before sending."""

    def __init__(self, fake_url: str, hosts: tuple[str, ...] = WECHAT_HOSTS) -> None:
        super().__init__()
        self.fake_url = fake_url.rstrip("/")
        self.hosts = hosts

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        for host in self.hosts:
            if url.startswith(host + "/"):
                request.url = self.fake_url + url[len(host) :]
                break
        return super().send(request, *args, **kwargs)


def route_to_fake(session: requests.Session, fake_url: str, hosts: tuple[str, ...] = WECHAT_HOSTS) -> None:
    """Mount the redirect on `session` (e.g. a wechatpy client's `_http`) for every WeChat host."""
    adapter = RedirectAdapter(fake_url, hosts)
    for host in hosts:
        session.mount(host + "/", adapter)
